/// @file
/// @brief Stochastic gradient descent, with momentum and weight decay (PyTorch's formulation).
///
///   g <- g + weight_decay * w;   v <- momentum * v + g;   w <- w - lr * v
/// (with momentum 0: w <- w - lr * g, the reference notes' plain update). Options are checked at
/// construction and on change (optim/options.hpp).
///
/// `update` returns false with weights and velocity as they were if any new value would not be
/// finite (a non-finite gradient included). It makes sure in one of two ways, which give the
/// same bits (detail/update_pass.hpp: the same packet code for every coefficient):
/// - where the weights, the velocity, a copy of them and the gradient fit in the L2 cache
///   (`Eigen::l2CacheSize()`; on a 1 MB L2, up to 87k float parameters, 52k with momentum), one
///   pass saves what it overwrites, stores the new values and tests them; a failed update copies
///   the saved values back (Adam's way). That copy is kept from construction (`saves_copy()`).
/// - above that, a pass computes every new value and tests it, and only if all are finite a
///   second pass computes and stores them: no copy, and a pass that saves a copy stores twice per
///   coefficient, which measured slower once the data spill from L2 (784-128-64-10, batch 1,
///   109k parameters: 18.5-19.5 against 16.5-18.3 us a step).
/// In cache the second pass is what costs: at batch 1 the one pass took a 64-64-64-10 step from
/// 1.54 to 1.37 us and a 256-128-64-10 step from 6.6 to 5.1-5.5 us (bench/analysis.md, stop 32).
/// At one row, a Trainer hands Sgd without momentum its Linear layers' input rows and output
/// adjoints instead of their gradients (`check_outer`, `commit_outer`: the same bits, fewer
/// stores; detail/outer_update.hpp).
#pragma once

#include "tapeless/core/shape.hpp"
#include "tapeless/detail/outer_update.hpp"
#include "tapeless/detail/update_pass.hpp"
#include "tapeless/optim/options.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <cstddef>

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
      : options_(checked(o)),
        velocity_(vector_type::Zero(net.values().size())),
        saved_(copy_size(net.values().size(), options_.momentum)) {}

  /// Updates `w` in place from its gradient `g`; returns false, changing nothing, if the update
  /// is not finite (a non-finite gradient included). Throws shape_error, changing nothing, if `w`
  /// or `g` is not the size of the network the optimizer was made for.
  bool update(vector_type& w, const vector_type& g) {
    detail::require_update_sizes("Sgd", w.size(), g.size(), velocity_.size());
    const Plan p = plan();
    const Index n = w.size();
    if (saves_copy(p)) {
      if (pass<detail::Pass::save_and_commit>(p, w.data(), g.data(), velocity_.data(), 0, n, saved_.data()))
        return true;
      std::copy_n(saved_.data(), n, w.data());
      if (p.mu != 0) std::copy_n(saved_.data() + n, n, velocity_.data());
      return false;
    }
    if (!check(p, w, g, 0, n)) return false;
    commit(p, w, g, 0, n);
    return true;
  }

  /// Whether `update` runs as one pass that saves a copy of the weights (and velocity) it
  /// overwrites (the data fit in the L2 cache), rather than a check pass and a commit pass. The
  /// copy is sized at construction for the options given then: momentum turned on later by
  /// `set_options` finds no room for the velocity's copy, and `update` checks first.
  bool saves_copy() const noexcept { return saves_copy(plan()); }

  /// The update in slices, for a caller that runs them on several threads (ParallelTrainer):
  /// `plan()` once; `check` every slice [first, first + n) of the parameters; only if every
  /// slice passed, `commit` every slice and `finish` once. Any split gives `update`'s bits.
  struct Plan {
    S lr, mu, wd;
  };
  Plan plan() const {
    return {static_cast<S>(options_.lr), static_cast<S>(options_.momentum), static_cast<S>(options_.weight_decay)};
  }
  /// Whether every new weight (and velocity) of the slice is finite.
  bool check(const Plan& p, const vector_type& w, const vector_type& g, Index first, Index n) const {
    eigen_assert(first >= 0 && n >= 0 && first + n <= velocity_.size());
    return pass<detail::Pass::check>(p, w.data(), g.data(), velocity_.data(), first, n);
  }
  /// Stores the slice's new weights (and velocity): the values `check` tested.
  void commit(const Plan& p, vector_type& w, const vector_type& g, Index first, Index n) {
    eigen_assert(first >= 0 && n >= 0 && first + n <= velocity_.size());
    pass<detail::Pass::commit>(p, w.data(), g.data(), velocity_.data(), first, n);
  }
  void finish(const Plan&) {}

  template <class Net>
  bool update(Net& net) {
    return update(net.values(), net.gradients());
  }

  /// @name The update at one row, fused (Trainer::step)
  /// At one row, a Linear layer's weight gradient is the outer product x^T g of its input row x
  /// and the adjoint g of its output, and its bias gradient is g (x^T g with x = 1).
  /// `check_outer` tells whether the update of such weights would be finite, forming their
  /// gradients in registers; `commit_outer` then stores the gradients and the new weights: the
  /// bits of backward's gradients followed by `update`, in fewer passes over memory
  /// (detail/outer_update.hpp). Trainer::step runs them over every weight of a network whose
  /// parameters are all Linear layers', at one row, without clipping.
  /// @{
  /// Whether the update is fused for a network of `parameters`: no momentum, made for that
  /// network, and at least `fused_outer_minimum` parameters. Below that the separate passes
  /// measured faster (the fused passes' set-up per weight and per column outweighs the store
  /// they save): a 4-16-16-3 step at one row took 1.5x as long fused, 32-32-32-10 (2,474
  /// parameters) 1.07x, while 64-64-64-10 (8,970) took 0.92x and 784-128-64-10 0.8-0.9x
  /// (bench/analysis.md, stop 36).
  bool fuses_outer(Index parameters) const noexcept {
    return options_.momentum == 0 && parameters == velocity_.size() && parameters >= fused_outer_minimum;
  }
  static constexpr Index fused_outer_minimum = 4096;
  /// Whether every new coefficient of the `count` weights would be finite (stores nothing).
  bool check_outer(const Plan& p, const detail::outer_weight<S>* weights, std::size_t count) const {
    eigen_assert(p.mu == 0);
    return detail::outer_update<detail::Pass::check, S>(weights, count, plain(p));
  }
  /// Stores every weight's gradient x^T g into its dw and its new values: what `check_outer`
  /// tested.
  void commit_outer(const Plan& p, const detail::outer_weight<S>* weights, std::size_t count) {
    eigen_assert(p.mu == 0);
    detail::outer_update<detail::Pass::commit, S>(weights, count, plain(p));
  }
  /// @}

  const SgdOptions& options() const noexcept { return options_; }
  /// Changes the options (a schedule's new rate, say); throws, keeping the old ones, if invalid.
  void set_options(const SgdOptions& o) { options_ = checked(o); }
  const vector_type& velocity() const noexcept { return velocity_; }

 private:
  // Room for the copies of what update() overwrites, the weights (and the velocity, with
  // momentum), where those, their copies and the gradient fit in the L2 cache; none otherwise.
  static Index copy_size(Index n, double momentum) {
    const Index kept = momentum == 0 ? 1 : 2;
    return (2 * kept + 1) * n * Index{sizeof(S)} <= Index{Eigen::l2CacheSize()} ? kept * n : 0;
  }

  bool saves_copy(const Plan& p) const noexcept { return saved_.size() >= (p.mu == 0 ? 1 : 2) * velocity_.size(); }

  static SgdOptions checked(const SgdOptions& o) {
    detail::require_rate<S>("Sgd", "lr", o.lr);
    detail::require_non_negative<S>("Sgd", "momentum", o.momentum);
    detail::require_non_negative<S>("Sgd", "weight_decay", o.weight_decay);
    return o;
  }

  // The kernel of the update without momentum, w <- w - lr (g + wd w), shared by `pass` and the
  // fused one-row update (which must give its bits).
  static auto plain(const Plan& p) {
    using namespace Eigen::internal;
    const S minus_lr = -p.lr, wd = p.wd;  // by value into the kernels (update_pass)
    return [=]<class P>(P(&x)[1], const P(&r)[1]) {
      x[0] = pmadd(pset1<P>(minus_lr), pmadd(pset1<P>(wd), x[0], r[0]), x[0]);
    };
  }

  // The update of the slice, as one of update_pass's modes:
  //   momentum 0:  w <- w - lr (g + wd w)
  //   otherwise:   v <- mu v + (g + wd w);  w <- w - lr v
  // (save_and_commit: the old weights go to saved[0, n), the old velocity to saved[n, 2n).)
  template <detail::Pass Mode, class T>
  static bool pass(const Plan& p, T* w, const S* g, T* v, Index first, Index n, S* saved = nullptr) {
    using namespace Eigen::internal;
    const std::array<const S*, 1> read{g + first};
    const S minus_lr = -p.lr, mu = p.mu, wd = p.wd;  // by value into the kernels (update_pass)
    if (mu == 0)
      return detail::update_pass<Mode, S>(n, std::array<T*, 1>{w + first}, read, std::array<S*, 1>{saved}, plain(p));
    return detail::update_pass<Mode, S>(n, std::array<T*, 2>{w + first, v + first}, read,
                                        std::array<S*, 2>{saved, saved == nullptr ? nullptr : saved + n},
                                        [=]<class P>(P(&x)[2], const P(&r)[1]) {
                                          x[1] = pmadd(pset1<P>(mu), x[1], pmadd(pset1<P>(wd), x[0], r[0]));
                                          x[0] = pmadd(pset1<P>(minus_lr), x[1], x[0]);
                                        });
  }

  SgdOptions options_;
  vector_type velocity_;
  vector_type saved_;  // update()'s copy of what it overwrites (copy_size), or empty
};

template <class Net>
Sgd(const Net&, SgdOptions = {}) -> Sgd<typename Net::scalar_type>;

}  // namespace tapeless
