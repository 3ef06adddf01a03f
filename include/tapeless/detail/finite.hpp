/// @file
/// @brief `all_finite(x)`: whether every coefficient is finite, in one vectorised pass.
/// No stability promise.
///
/// x * 0 is 0 for every finite x and NaN for NaN and both infinities, so the sum of x * 0 is 0
/// exactly when every coefficient is finite; Eigen computes it as a vectorised reduction with
/// no early exit and no comparison per coefficient. Eigen's own `allFinite()` compares
/// (x - x) == (x - x) coefficient by coefficient: on a 110k-parameter network it was a third of
/// a batch-1 training step (bench/, perf), and a NaN-propagating max of |x| still 4x slower
/// than this sum. Like every NaN test, this one needs IEEE arithmetic: not under -ffast-math.
#pragma once

#include <Eigen/Core>

#include <type_traits>

namespace tapeless::detail {

template <class Derived>
bool all_finite(const Eigen::DenseBase<Derived>& x) {
  using S = typename Derived::Scalar;
  return (x.derived().array() * S(0)).sum() == S(0);
}

/// Whether every coefficient of every (same-sized) array expression is finite with a factor of 2
/// to spare (|x| <= max / 2): 2x * 0 is 0 exactly then. An optimizer checks its proposed update
/// with it and then commits the same expression; the headroom absorbs any difference in rounding
/// between the two evaluations (a fused multiply-add in one and not the other), so a value that
/// passed the check cannot overflow when committed. One vectorised pass, no early exit.
template <class... X>
bool all_finite_with_headroom(const X&... x) {
  using S = typename std::common_type_t<typename X::Scalar...>;
  return ((x * S(2) * S(0)) + ...).sum() == S(0);
}

}  // namespace tapeless::detail
