/// @file
/// @brief `gather_rows(batch, source, rows)`: a batch filled with rows of a data set picked by
/// index (the next batch of a shuffled epoch).
///
///     std::vector<Index> order(images.rows());   // a shuffled permutation of the rows
///     gather_rows(trainer.inputs(), images, std::span(order).subspan(first, 64));
///
/// A data set read from files is row-major (one sample per row: io/idx.hpp), a batch
/// column-major (a Tensor, as a Trainer's inputs): copied row by row, every coefficient is a
/// store into another column. Where the source is row-major with direct access and the batch
/// column-major, of the same scalar, the copy goes a packet of rows by a packet of columns at a
/// time, transposed in registers (detail/transpose.hpp): 64 rows of 784 floats picked at random
/// from 60000 in 5.0 us, against 27 us for Eigen's row-by-row assignment and 12.6 us for a
/// row-major staging copy assigned at once (AVX-512; bench/analysis.md, "Stop 28").
#pragma once

#include "tapeless/core/error.hpp"
#include "tapeless/core/tensor.hpp"
#include "tapeless/detail/transpose.hpp"

#include <Eigen/Core>

#include <cstddef>
#include <iterator>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace tapeless {

/// batch.row(r) = source.row(rows[r]) for every row r of `batch`, converted to the batch's scalar.
/// `rows`: a sized range of integer indices (std::vector<Index>, std::span<const int>, ...) at
/// least as long as the batch. Throws `shape_error` if the batch and the source have different
/// column counts or `rows` is shorter than the batch, and std::out_of_range for an index outside
/// the source, before writing anything.
template <class Batch, class Source, class Rows>
void gather_rows(Eigen::MatrixBase<Batch>& batch, const Eigen::MatrixBase<Source>& source, const Rows& rows) {
  const Index n = batch.rows(), cols = batch.cols();
  if (source.cols() != cols || static_cast<Index>(std::size(rows)) < n)
    throw shape_error("tapeless::gather_rows: a batch of " + std::to_string(n) + "x" + std::to_string(cols) +
                      " from a source of " + std::to_string(source.cols()) + " columns by " +
                      std::to_string(std::size(rows)) + " row indices; the columns must agree, and one index per row");
  auto index = [&](Index r) { return static_cast<Index>(rows[static_cast<std::size_t>(r)]); };
  for (Index r = 0; r < n; ++r) {
    const Index i = index(r);
    if (i < 0 || i >= source.rows())
      throw std::out_of_range("tapeless::gather_rows: index " + std::to_string(i) + " (for batch row " +
                              std::to_string(r) + ") outside the source's " + std::to_string(source.rows()) + " rows");
  }
  using S = typename Batch::Scalar;
  Batch& to = batch.derived();
  const Source& from = source.derived();
  constexpr bool in_packets = std::is_same_v<S, typename Source::Scalar> &&
                              Eigen::internal::packet_traits<S>::Vectorizable && bool(Source::IsRowMajor) &&
                              !bool(Batch::IsRowMajor) &&
                              bool(Eigen::internal::traits<Source>::Flags & Eigen::DirectAccessBit) &&
                              bool(Eigen::internal::traits<Batch>::Flags & Eigen::DirectAccessBit) &&
                              Source::InnerStrideAtCompileTime == 1 && Batch::InnerStrideAtCompileTime == 1;
  if constexpr (in_packets) {
    const S* base = from.data();
    const Index stride = from.outerStride();
    detail::transpose_rows<S>(
        n, cols, [&](Index r) { return base + index(r) * stride; }, to.data(), to.outerStride());
  } else {
    for (Index r = 0; r < n; ++r) to.row(r) = from.row(index(r)).template cast<S>();
  }
}

/// The same into a Tensor (a Trainer's inputs() or targets()): its value, as many rows as it has.
template <class S, int R, int C, class Source, class Rows>
void gather_rows(Tensor<S, R, C>& batch, const Eigen::MatrixBase<Source>& source, const Rows& rows) {
  gather_rows(batch.value(), source, rows);
}

}  // namespace tapeless
