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
    if (!check(p, w, g, 0, w.size())) return false;
    commit(p, w, g, 0, w.size());
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
    const auto ws = w.segment(first, n).array();
    const auto gs = g.segment(first, n).array();
    if (p.mu == 0)  // wd = 0 included: one expression less to compile, same memory traffic
      return detail::all_finite_with_headroom(ws - p.lr * (gs + p.wd * ws));
    const auto v = p.mu * velocity_.segment(first, n).array() + gs + p.wd * ws;
    return detail::all_finite_with_headroom(v, ws - p.lr * v);
  }
  /// Commits the slice's update: the expressions `check` tested (coefficient-wise, so reading w
  /// while assigning it is safe).
  void commit(const Plan& p, vector_type& w, const vector_type& g, Index first, Index n) {
    auto ws = w.segment(first, n).array();
    const auto gs = g.segment(first, n).array();
    if (p.mu == 0) {
      ws = ws - p.lr * (gs + p.wd * ws);
    } else {
      auto vs = velocity_.segment(first, n).array();
      vs = p.mu * vs + gs + p.wd * ws;
      ws -= p.lr * vs;
    }
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

  SgdOptions options_;
  vector_type velocity_;
};

template <class Net>
Sgd(const Net&, SgdOptions = {}) -> Sgd<typename Net::scalar_type>;

}  // namespace tapeless
