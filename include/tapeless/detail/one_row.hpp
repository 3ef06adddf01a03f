/// @file
/// @brief `one_contiguous_row(m)`: whether a matrix holds, at run time, a single row whose
/// coefficients lie next to each other (a run-time batch of one). No stability promise.
///
/// Eigen's generic paths for a matrix whose row count is known only at run time treat one row as
/// a row of one-coefficient columns (`rowwise()`, `colwise()`, a product through a one-row
/// block); the callers (detail/broadcast.hpp, core/product.hpp) take such a row as one vector
/// instead. Column-major storage with an outer stride of 1 is what makes it contiguous.
#pragma once

#include <Eigen/Core>

#include <type_traits>

namespace tapeless::detail {

/// A column-major matrix, map or block with direct access to its coefficients.
template <class M>
concept column_major_direct = !std::remove_cvref_t<M>::IsRowMajor && requires(const M& m) {
  m.data();
  m.outerStride();
};

/// True when m has one row and an outer stride of 1: its coefficients are contiguous.
template <column_major_direct M>
bool one_contiguous_row(const M& m) {
  return m.rows() == 1 && m.outerStride() == 1;
}

}  // namespace tapeless::detail
