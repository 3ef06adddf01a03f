/// @file
/// @brief Stochastic gradient descent, with momentum and weight decay (PyTorch's formulation).
///
///   g <- g + weight_decay * w;   v <- momentum * v + g;   w <- w - lr * v
/// (with momentum 0: w <- w - lr * g, the reference notes' plain update). Options are checked at
/// construction and on change (optim/options.hpp).
///
/// An update is checked before it is committed: a pass computes every new weight (and
/// velocity) and tests it, and only if all are finite a second pass computes and stores the same
/// values, bit for bit (detail/update_pass.hpp: the same packet code for every coefficient). So
/// `update` returns false with weights and velocity as they were if any would not be finite (a
/// non-finite gradient included). Two passes of loads rather than one that also saves a copy
/// (Adam's way): this update is a multiply-add per coefficient, and a pass that saves a copy
/// stores twice per coefficient, which measured no faster where stores are the bottleneck, and
/// needs the copy's memory.
#pragma once

#include "tapeless/core/shape.hpp"
#include "tapeless/detail/update_pass.hpp"
#include "tapeless/optim/options.hpp"

#include <Eigen/Core>

#include <array>

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
  /// is not finite (a non-finite gradient included). Throws shape_error, changing nothing, if `w`
  /// or `g` is not the size of the network the optimizer was made for.
  bool update(vector_type& w, const vector_type& g) {
    detail::require_update_sizes("Sgd", w.size(), g.size(), velocity_.size());
    const Plan p = plan();
    if (!check(p, w, g, 0, w.size())) return false;
    commit(p, w, g, 0, w.size());
    return true;
  }

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

  // The update of the slice, as one of update_pass's modes:
  //   momentum 0:  w <- w - lr (g + wd w)
  //   otherwise:   v <- mu v + (g + wd w);  w <- w - lr v
  template <detail::Pass Mode, class T>
  static bool pass(const Plan& p, T* w, const S* g, T* v, Index first, Index n) {
    using namespace Eigen::internal;
    const std::array<const S*, 1> read{g + first};
    const S minus_lr = -p.lr, mu = p.mu, wd = p.wd;  // by value into the kernels (update_pass)
    if (mu == 0)
      return detail::update_pass<Mode, S>(n, std::array<T*, 1>{w + first}, read, std::array<S*, 1>{},
                                          [=]<class P>(P(&x)[1], const P(&r)[1]) {
                                            x[0] = pmadd(pset1<P>(minus_lr), pmadd(pset1<P>(wd), x[0], r[0]), x[0]);
                                          });
    return detail::update_pass<Mode, S>(n, std::array<T*, 2>{w + first, v + first}, read, std::array<S*, 2>{},
                                        [=]<class P>(P(&x)[2], const P(&r)[1]) {
                                          x[1] = pmadd(pset1<P>(mu), x[1], pmadd(pset1<P>(wd), x[0], r[0]));
                                          x[0] = pmadd(pset1<P>(minus_lr), x[1], x[0]);
                                        });
  }

  SgdOptions options_;
  vector_type velocity_;
};

template <class Net>
Sgd(const Net&, SgdOptions = {}) -> Sgd<typename Net::scalar_type>;

}  // namespace tapeless
