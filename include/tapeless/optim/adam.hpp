/// @file
/// @brief Adam (Kingma & Ba), with L2 weight decay as in PyTorch's `torch.optim.Adam`.
///
///   g <- g + weight_decay * w
///   m <- b1 m + (1 - b1) g;          v <- b2 v + (1 - b2) g^2
///   w <- w - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
/// Options are checked at construction and on change (optim/options.hpp): lr > 0, b1 and b2 in
/// [0, 1), eps > 0, weight_decay >= 0, all finite in the network's scalar type. The step is
/// arranged as PyTorch's, lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps), with the two
/// corrections taken in double once per step (the second as a factor 1 / sqrt(1 - b2^t)) and
/// sqrt(v) as Eigen's packet square root (for float, under Eigen's default EIGEN_FAST_MATH, an
/// rsqrt and a Newton step: a unit or two in the last place from std::sqrt).
///
/// An update is one pass over the parameters (detail/update_pass.hpp): each coefficient's
/// weight and moments are saved, updated and checked in the same loop. If any new weight or moment
/// is not finite (g^2 overflowing, say, which would leave v infinite and freeze that weight for
/// good), the saved values are copied back: `update` returns false and weights, moments and step
/// count stay bit for bit as they were. Moments and the saved copies (three vectors the size of
/// the network) are allocated once, at construction; the step count t is part of the state so
/// that training can resume exactly, and `restore` checks a state as strictly as a model file's
/// weights.
#pragma once

#include "tapeless/core/shape.hpp"
#include "tapeless/detail/update_pass.hpp"
#include "tapeless/optim/options.hpp"

#include <Eigen/Core>

#include <array>
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
      : options_(checked(o)),
        m_(vector_type::Zero(net.values().size())),
        v_(vector_type::Zero(net.values().size())),
        saved_w_(net.values().size()),
        saved_m_(net.values().size()),
        saved_v_(net.values().size()) {}

  /// Updates `w` in place from its gradient `g`; returns false, changing nothing, if the update
  /// is not finite (a non-finite gradient included). Throws shape_error, changing nothing, if `w`
  /// or `g` is not the size of the network the optimizer was made for.
  bool update(vector_type& w, const vector_type& g) {
    detail::require_update_sizes("Adam", w.size(), g.size(), m_.size());
    const Plan p = plan();
    if (!apply(p, w, g, 0, w.size())) {
      undo(p, w, 0, w.size());
      return false;
    }
    finish(p);
    return true;
  }

  /// The update in slices, for a caller that runs them on several threads (ParallelTrainer):
  /// `plan()` once; `apply` every slice [first, first + n) of the parameters; then, if every
  /// slice returned true, `finish` once, and otherwise `undo` every slice that was applied. Any
  /// split gives `update`'s bits.
  struct Plan {
    std::int64_t t;
    S step_size, inv_sqrt_c2, wd, eps, b1, b2, one_minus_b1, one_minus_b2;
  };
  Plan plan() const {
    const std::int64_t t = step_ < max_steps ? step_ + 1 : step_;
    const double b1 = options_.beta1, b2 = options_.beta2;
    return {t,
            static_cast<S>(options_.lr / (1 - std::pow(b1, static_cast<double>(t)))),
            static_cast<S>(1 / std::sqrt(1 - std::pow(b2, static_cast<double>(t)))),
            static_cast<S>(options_.weight_decay),
            static_cast<S>(options_.eps),
            static_cast<S>(b1),
            static_cast<S>(b2),
            static_cast<S>(1 - b1),
            static_cast<S>(1 - b2)};
  }
  /// Updates the slice in place, saving its old weights and moments for `undo`; returns whether
  /// every value it wrote is finite.
  bool apply(const Plan& p, vector_type& w, const vector_type& g, Index first, Index n) {
    using namespace Eigen::internal;
    eigen_assert(first >= 0 && n >= 0 && first + n <= m_.size());
    return detail::update_pass<detail::Pass::save_and_commit, S>(
        n, std::array<S*, 3>{w.data() + first, m_.data() + first, v_.data() + first},
        std::array<const S*, 1>{g.data() + first},
        std::array<S*, 3>{saved_w_.data() + first, saved_m_.data() + first, saved_v_.data() + first},
        [p]<class P>(P(&x)[3], const P(&r)[1]) {  // the plan by value (update_pass)
          auto& [weight, mean, square] = x;       // w, m, v
          const P gd = pmadd(pset1<P>(p.wd), weight, r[0]);
          mean = pmadd(pset1<P>(p.b1), mean, pmul(pset1<P>(p.one_minus_b1), gd));
          square = pmadd(pset1<P>(p.b2), square, pmul(pmul(pset1<P>(p.one_minus_b2), gd), gd));
          const P denominator = pmadd(psqrt(square), pset1<P>(p.inv_sqrt_c2), pset1<P>(p.eps));
          weight = psub(weight, pmul(pset1<P>(p.step_size), pdiv(mean, denominator)));
        });
  }
  /// Puts an applied slice back as it was, bit for bit.
  void undo(const Plan&, vector_type& w, Index first, Index n) {
    w.segment(first, n) = saved_w_.segment(first, n);
    m_.segment(first, n) = saved_m_.segment(first, n);
    v_.segment(first, n) = saved_v_.segment(first, n);
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

  AdamOptions options_;
  vector_type m_, v_;
  vector_type saved_w_, saved_m_, saved_v_;  // an update's old values, for undo
  std::int64_t step_ = 0;
};

template <class Net>
Adam(const Net&, AdamOptions = {}) -> Adam<typename Net::scalar_type>;

}  // namespace tapeless
