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

namespace tapeless::detail {

template <class Derived>
bool all_finite(const Eigen::DenseBase<Derived>& x) {
  using S = typename Derived::Scalar;
  return (x.derived().array() * S(0)).sum() == S(0);
}

}  // namespace tapeless::detail
