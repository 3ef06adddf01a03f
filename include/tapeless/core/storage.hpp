/// @file
/// @brief The Eigen type that stores a value of a given compile-time shape.
///
/// Fixed-size Eigen matrices (inline, no heap) only where they were measured to pay at run time
/// (docs/design.md §9, bench/analysis.md): values whose two dimensions are static and at most
/// `fixed_dimension_limit` (16), single rows or columns of at most `fixed_vector_limit` (1024)
/// coefficients (a batch-1 activation), and network parameters (`parameter_storage_t`) of at most
/// `fixed_parameter_limit` (64) in both dimensions (a batch-1 product with a fixed-size weight
/// matrix was 1.4x faster at 64x64). Any other shape lives in a heap matrix of dynamic size (a row
/// or column keeps its static 1), sized once, when its owner is built (or when the batch size
/// changes), never during a forward or backward pass.
///
/// Why not fixed sizes everywhere: each fixed shape is its own Eigen type, and every kernel and
/// expression template is instantiated again for it, in every program that meets it. Dynamic
/// storage is instantiated once per scalar type and shared by every layer and program.
#pragma once

#include "tapeless/core/shape.hpp"

#include <Eigen/Core>

namespace tapeless {

/// Largest dimensions of a fixed-size value, row or column, and parameter (the file comment).
inline constexpr int fixed_dimension_limit = 16;
inline constexpr int fixed_vector_limit = 1024;
inline constexpr int fixed_parameter_limit = 64;

namespace detail {
template <class S, int R, int C, bool Fixed>
struct storage_select {
  static constexpr int rows = Fixed || R == 1 ? R : Eigen::Dynamic;
  static constexpr int cols = Fixed || C == 1 ? C : Eigen::Dynamic;
  using type = Eigen::Matrix<S, rows, cols>;
};
template <int R, int C>
inline constexpr bool fixed_value = R != dynamic && ((R <= fixed_dimension_limit && C <= fixed_dimension_limit) ||
                                                     ((R == 1 || C == 1) && R * C <= fixed_vector_limit));
template <int R, int C>
inline constexpr bool fixed_parameter = fixed_value<R, C> ||
                                        (R != dynamic && R <= fixed_parameter_limit && C <= fixed_parameter_limit);
}  // namespace detail

/// Storage for an R x C value of scalar S (R may be `dynamic`).
template <class S, int R, int C>
using storage_t = typename detail::storage_select<S, R, C, detail::fixed_value<R, C>>::type;

/// Storage for a network parameter of R x C (always static): fixed-size up to 64x64.
template <class S, int R, int C>
using parameter_storage_t = typename detail::storage_select<S, R, C, detail::fixed_parameter<R, C>>::type;

/// A zero-filled storage object of the given run-time dimensions.
template <class S, int R, int C>
storage_t<S, R, C> make_storage(Dims d) {
  return storage_t<S, R, C>::Zero(d.rows, d.cols);
}

}  // namespace tapeless
