/// @file
/// @brief Adam (Kingma & Ba), with L2 weight decay as in PyTorch's `torch.optim.Adam`.
///
///   g <- g + weight_decay * w
///   m <- b1 m + (1 - b1) g;          v <- b2 v + (1 - b2) g^2
///   w <- w - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
/// Options are checked at construction and on change (optim/options.hpp): lr > 0, b1 and b2 in
/// [0, 1), eps > 0, weight_decay >= 0, all finite in the network's scalar type. An update is
/// computed and checked before it is committed: if any new weight or moment would not be finite
/// (g^2 overflowing, say, which would leave v infinite and freeze that weight for good), `update`
/// returns false and weights, moments and step count stay bit for bit as they were. Moments are
/// allocated once, at construction; the step count t is part of the state so that training can
/// resume exactly, and `restore` checks a state as strictly as a model file's weights.
#pragma once

#include "tapeless/core/shape.hpp"
#include "tapeless/detail/finite.hpp"
#include "tapeless/optim/options.hpp"

#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace tapeless {

struct AdamOptions {
  double lr = 1e-3;         ///< finite, > 0
  double beta1 = 0.9;       ///< in [0, 1)
  double beta2 = 0.999;     ///< in [0, 1)
  double eps = 1e-8;        ///< finite, > 0
  double weight_decay = 0;  ///< finite, >= 0
};

template <class S>
class Adam {
 public:
  using vector_type = Eigen::Matrix<S, Eigen::Dynamic, 1>;
  /// The largest step count: 2^53, exact in double. Past it the count stays there (the bias
  /// corrections are exactly 1 long before), so it can never overflow.
  static constexpr std::int64_t max_steps = std::int64_t{1} << 53;

  /// Throws std::invalid_argument if an option is outside its domain.
  template <class Net>
  explicit Adam(const Net& net, AdamOptions o = {})
      : options_(checked(o)), m_(vector_type::Zero(net.values().size())), v_(vector_type::Zero(net.values().size())) {}

  /// Updates `w` in place from its gradient `g`; returns false, changing nothing, if the update
  /// is not finite (a non-finite gradient included).
  bool update(vector_type& w, const vector_type& g) {
    const Plan p = plan();
    if (!apply<false>(p, w.array(), g.array(), m_.array(), v_.array())) return false;
    apply<true>(p, w.array(), g.array(), m_.array(), v_.array());
    finish(p);
    return true;
  }

  /// The update in slices, for a caller that runs them on several threads (ParallelTrainer):
  /// `plan()` once; `check` every slice [first, first + n) of the parameters; only if every
  /// slice passed, `commit` every slice and `finish` once. Any split gives `update`'s result.
  struct Plan {
    std::int64_t t;
    S c1, c2, wd, lr, eps, b1, b2;
  };
  Plan plan() const {
    const std::int64_t t = step_ < max_steps ? step_ + 1 : step_;
    const double b1 = options_.beta1, b2 = options_.beta2;
    return {t,
            static_cast<S>(1 - std::pow(b1, static_cast<double>(t))),
            static_cast<S>(1 - std::pow(b2, static_cast<double>(t))),
            static_cast<S>(options_.weight_decay),
            static_cast<S>(options_.lr),
            static_cast<S>(options_.eps),
            static_cast<S>(b1),
            static_cast<S>(b2)};
  }
  /// Whether the slice's update is finite (with headroom: detail::all_finite_with_headroom).
  bool check(const Plan& p, const vector_type& w, const vector_type& g, Index first, Index n) const {
    return apply<false>(p, w.segment(first, n).array(), g.segment(first, n).array(), m_.segment(first, n).array(),
                        v_.segment(first, n).array());
  }
  /// Commits the slice's update: the expressions `check` tested.
  void commit(const Plan& p, vector_type& w, const vector_type& g, Index first, Index n) {
    apply<true>(p, w.segment(first, n).array(), g.segment(first, n).array(), m_.segment(first, n).array(),
                v_.segment(first, n).array());
  }
  void finish(const Plan& p) { step_ = p.t; }

  template <class Net>
  bool update(Net& net) {
    return update(net.values(), net.gradients());
  }

  /// Throws std::invalid_argument naming the problem unless (m, v, steps) is a state Adam can
  /// reach: `size` coefficients each, every m and v finite, v >= 0, 0 <= steps <= max_steps.
  static void check_state(const vector_type& m, const vector_type& v, std::int64_t steps, Index size) {
    auto fail = [](const std::string& what) { return std::invalid_argument("tapeless::Adam: state: " + what); };
    if (m.size() != size || v.size() != size)
      throw fail("moments of " + std::to_string(m.size()) + " and " + std::to_string(v.size()) +
                 " coefficients for a network of " + std::to_string(size));
    for (Index i = 0; i < size; ++i) {
      if (!std::isfinite(m(i))) throw fail("first moment at " + std::to_string(i) + " is not finite");
      if (!std::isfinite(v(i)) || v(i) < 0)
        throw fail("second moment at " + std::to_string(i) + " is not finite and >= 0 (" + std::to_string(v(i)) + ")");
    }
    if (steps < 0 || steps > max_steps) throw fail("step count " + std::to_string(steps) + " is outside [0, 2^53]");
  }

  /// Sets the state (moments and step count), as a checkpoint saved it; checks it first
  /// (check_state) and throws, changing nothing, if it is not a state Adam can reach.
  void restore(const vector_type& m, const vector_type& v, std::int64_t steps) {
    check_state(m, v, steps, m_.size());
    m_ = m;
    v_ = v;
    step_ = steps;
  }

  const AdamOptions& options() const noexcept { return options_; }
  /// Changes the options (a schedule's new rate, say); throws, keeping the old ones, if invalid.
  void set_options(const AdamOptions& o) { options_ = checked(o); }
  std::int64_t step_count() const noexcept { return step_; }
  const vector_type& first_moment() const noexcept { return m_; }
  const vector_type& second_moment() const noexcept { return v_; }

 private:
  static AdamOptions checked(const AdamOptions& o) {
    detail::require_rate<S>("Adam", "lr", o.lr);
    detail::require_unit_interval("Adam", "beta1", o.beta1);
    detail::require_unit_interval("Adam", "beta2", o.beta2);
    detail::require_rate<S>("Adam", "eps", o.eps);
    detail::require_non_negative<S>("Adam", "weight_decay", o.weight_decay);
    return o;
  }

  // The update of w and the moments m, v from g, as array expressions: checked (Commit false) or
  // assigned (Commit true), the same expressions either way; coefficient-wise, so reading m, v and
  // w while assigning them is safe. update() passes whole vectors, check and commit slices: a
  // Trainer's update compiles no slice code.
  template <bool Commit, class W, class G, class M, class V>
  static bool apply(const Plan& p, W w, const G& g, M m, V v) {
    const auto gd = g + p.wd * w;
    const auto m_next = p.b1 * m + (1 - p.b1) * gd;
    const auto v_next = p.b2 * v + (1 - p.b2) * gd.square();
    const auto step = [&](const auto& mm, const auto& vv) { return p.lr * (mm / p.c1) / ((vv / p.c2).sqrt() + p.eps); };
    if constexpr (!Commit) {
      return detail::all_finite_with_headroom(m_next, v_next, w - step(m_next, v_next));
    } else {
      m = m_next;
      v = v_next;
      w -= step(m, v);
      return true;
    }
  }

  AdamOptions options_;
  vector_type m_, v_;
  std::int64_t step_ = 0;
};

template <class Net>
Adam(const Net&, AdamOptions = {}) -> Adam<typename Net::scalar_type>;

}  // namespace tapeless
