/// @file
/// @brief The Eigen type that stores a value of a given compile-time shape.
///
/// Small shapes (both dimensions static and at most `fixed_dimension_limit`) live in fixed-size
/// Eigen matrices, inside the object that owns them: no heap at all. Any other shape lives in a
/// heap matrix of dynamic size (a row or column keeps its static 1), sized once, when its owner is
/// built (or when the batch size changes), never during a forward or backward pass.
///
/// Why not fixed sizes everywhere: each fixed shape is its own Eigen type, and every kernel and
/// expression template is instantiated again for it; a network's translation unit then pays per
/// width and per batch (docs/design.md, compile time). Fixed sizes pay at run time only where the
/// per-operation overhead of a loop with run-time bounds is a large share of the work, that is
/// for tiny matrices. Dynamic storage is instantiated once per scalar type and shared by every
/// layer and program of that scalar.
#pragma once

#include "tapeless/core/shape.hpp"

#include <Eigen/Core>

namespace tapeless {

/// Largest dimension of a fixed-size Eigen matrix: a value whose two dimensions are static and at
/// most this lives inline; any other value in a heap matrix of dynamic size.
inline constexpr int fixed_dimension_limit = 16;

namespace detail {
template <class S, int R, int C>
struct storage_select {
  static constexpr bool fixed = R != dynamic && R <= fixed_dimension_limit && C <= fixed_dimension_limit;
  static constexpr int rows = fixed || R == 1 ? R : Eigen::Dynamic;
  static constexpr int cols = fixed || C == 1 ? C : Eigen::Dynamic;
  using type = Eigen::Matrix<S, rows, cols>;
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
