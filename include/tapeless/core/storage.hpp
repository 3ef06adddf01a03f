/// @file
/// @brief The Eigen type that stores a value of a given compile-time shape.
///
/// Small shapes (at most `fixed_storage_limit` coefficients, both dimensions static) live in
/// fixed-size Eigen matrices, inside the object that owns them: no heap at all. Larger or batch-
/// dynamic shapes live in heap matrices that are sized once, when their owner is built (or when the
/// batch size changes), never during a forward or backward pass.
#pragma once

#include "tapeless/core/shape.hpp"

#include <Eigen/Core>

namespace tapeless {

/// Largest number of coefficients kept in a fixed-size (stack/inline) Eigen matrix: 32x32.
inline constexpr int fixed_storage_limit = 32 * 32;

namespace detail {
template <class S, int R, int C>
struct storage_select {
  static constexpr bool fixed = R != dynamic && R * C <= fixed_storage_limit;
  using type = Eigen::Matrix<S, fixed ? R : (R == dynamic ? Eigen::Dynamic : R),
                             fixed ? C : (R == dynamic ? C : Eigen::Dynamic)>;
};
}  // namespace detail

/// Storage for an R x C value of scalar S (R may be `dynamic`).
template <class S, int R, int C>
using storage_t = typename detail::storage_select<S, R, C>::type;

/// A zero-filled storage object of the given run-time dimensions.
template <class S, int R, int C>
storage_t<S, R, C> make_storage(Dims d) {
  return storage_t<S, R, C>::Zero(d.rows, d.cols);
}

}  // namespace tapeless
