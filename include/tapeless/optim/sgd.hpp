/// @file
/// @brief Stochastic gradient descent, with momentum and weight decay (PyTorch's formulation).
///
///   g <- g + weight_decay * w;   v <- momentum * v + g;   w <- w - lr * v
/// (with momentum 0: w <- w - lr * g, the reference notes' plain update). Options are checked at
/// construction and on change (optim/options.hpp). An update is computed and checked before it
/// is committed: if any new weight or velocity would not be finite, `update` returns false and
/// leaves weights and velocity bit for bit as they were. The velocity is allocated once.
#pragma once

#include "tapeless/core/shape.hpp"
#include "tapeless/detail/finite.hpp"
#include "tapeless/optim/options.hpp"

#include <Eigen/Core>

namespace tapeless {

struct SgdOptions {
  double lr = 0.01;         ///< finite, > 0
  double momentum = 0;      ///< finite, >= 0
  double weight_decay = 0;  ///< finite, >= 0
};

template <class S>
class Sgd {
 public:
  using vector_type = Eigen::Matrix<S, Eigen::Dynamic, 1>;

  /// Throws std::invalid_argument if an option is outside its domain.
  template <class Net>
  explicit Sgd(const Net& net, SgdOptions o = {})
      : options_(checked(o)), velocity_(vector_type::Zero(net.values().size())) {}

  /// Updates `w` in place from its gradient `g`; returns false, changing nothing, if the update
  /// is not finite (a non-finite gradient included).
  bool update(vector_type& w, const vector_type& g) {
    const Plan p = plan();
    if (!apply<false>(p, w.array(), g.array(), velocity_.array())) return false;
    apply<true>(p, w.array(), g.array(), velocity_.array());
    return true;
  }

  /// The update in slices, for a caller that runs them on several threads (ParallelTrainer):
  /// `plan()` once; `check` every slice [first, first + n) of the parameters; only if every
  /// slice passed, `commit` every slice and `finish` once. Any split gives `update`'s result.
  struct Plan {
    S lr, mu, wd;
  };
  Plan plan() const {
    return {static_cast<S>(options_.lr), static_cast<S>(options_.momentum), static_cast<S>(options_.weight_decay)};
  }
  /// Whether the slice's update is finite (with headroom: detail::all_finite_with_headroom).
  bool check(const Plan& p, const vector_type& w, const vector_type& g, Index first, Index n) const {
    return apply<false>(p, w.segment(first, n).array(), g.segment(first, n).array(),
                        velocity_.segment(first, n).array());
  }
  /// Commits the slice's update: the expressions `check` tested.
  void commit(const Plan& p, vector_type& w, const vector_type& g, Index first, Index n) {
    apply<true>(p, w.segment(first, n).array(), g.segment(first, n).array(), velocity_.segment(first, n).array());
  }
  void finish(const Plan&) {}

  template <class Net>
  bool update(Net& net) {
    return update(net.values(), net.gradients());
  }

  const SgdOptions& options() const noexcept { return options_; }
  /// Changes the options (a schedule's new rate, say); throws, keeping the old ones, if invalid.
  void set_options(const SgdOptions& o) { options_ = checked(o); }
  const vector_type& velocity() const noexcept { return velocity_; }

 private:
  static SgdOptions checked(const SgdOptions& o) {
    detail::require_rate<S>("Sgd", "lr", o.lr);
    detail::require_non_negative<S>("Sgd", "momentum", o.momentum);
    detail::require_non_negative<S>("Sgd", "weight_decay", o.weight_decay);
    return o;
  }

  // The update of w (and the velocity v) from g, as array expressions: checked (Commit false) or
  // assigned (Commit true), the same expressions either way; coefficient-wise, so reading w while
  // assigning it is safe. update() passes whole vectors, check and commit slices: a Trainer's
  // update compiles no slice code.
  template <bool Commit, class W, class G, class V>
  static bool apply(const Plan& p, W w, const G& g, V v) {
    if (p.mu == 0) {  // wd = 0 included: one expression less to compile, same memory traffic
      const auto next = w - p.lr * (g + p.wd * w);
      if constexpr (!Commit)
        return detail::all_finite_with_headroom(next);
      else
        w = next;
    } else {
      const auto velocity = p.mu * v + g + p.wd * w;
      if constexpr (!Commit) {
        return detail::all_finite_with_headroom(velocity, w - p.lr * velocity);
      } else {
        v = velocity;
        w -= p.lr * v;
      }
    }
    return true;
  }

  SgdOptions options_;
  vector_type velocity_;
};

template <class Net>
Sgd(const Net&, SgdOptions = {}) -> Sgd<typename Net::scalar_type>;

}  // namespace tapeless
