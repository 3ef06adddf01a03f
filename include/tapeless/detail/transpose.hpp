/// @file
/// @brief `transpose_rows` (a column-major block from rows found anywhere: a batch gathered from a
/// row-major data set) and `transpose_into` (a column-major matrix transposed): square blocks of
/// a packet by a packet transposed in registers (Eigen's ptranspose), the edges one coefficient at
/// a time. No stability promise.
///
/// A row-major source and a column-major destination have no direction in common: an element-wise
/// copy reads or stores one coefficient per column. In packet-square blocks, every load and every
/// store is a whole packet: a 64 x 784 float batch gathered from row-major images takes 0.19x
/// the time of Eigen's row-by-row assignment (network/gather.hpp).
#pragma once

#include "tapeless/detail/kernel_attributes.hpp"

#include <Eigen/Core>

namespace tapeless::detail {

/// D (n x c, column-major, outer stride ldd): D(r, j) = row(r)[j], where `row(r)` gives a pointer to
/// c contiguous coefficients. Each row pointer is taken once per block of a packet of rows. A
/// kernel (TAPELESS_KERNEL): inlined into gather_rows for 784-wide images, g++ 12 warned of its
/// column tail loop, which a width of 49 packets never enters.
template <class S, class Row>
TAPELESS_KERNEL void transpose_rows(Eigen::Index n, Eigen::Index c, Row row, S* d, Eigen::Index ldd) {
  using namespace Eigen::internal;
  using P = typename packet_traits<S>::type;
  constexpr Eigen::Index L = packet_traits<S>::size;
  Eigen::Index r = 0;
  if constexpr (L > 1) {
    for (; r + L <= n; r += L) {
      const S* from[L];
      for (Eigen::Index u = 0; u < L; ++u) from[u] = row(r + u);
      Eigen::Index j = 0;
      for (; j + L <= c; j += L) {
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push  // PacketBlock<P>: g++ drops P's may_alias as Eigen's own uses do
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif
        PacketBlock<P, L> block;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
        for (Eigen::Index u = 0; u < L; ++u) block.packet[u] = ploadu<P>(from[u] + j);
        ptranspose(block);
        for (Eigen::Index u = 0; u < L; ++u) pstoreu(d + (j + u) * ldd + r, block.packet[u]);
      }
      for (; j < c; ++j)
        for (Eigen::Index u = 0; u < L; ++u) d[j * ldd + r + u] = from[u][j];
    }
  }
  for (; r < n; ++r) {
    const S* from = row(r);
    for (Eigen::Index j = 0; j < c; ++j) d[j * ldd + r] = from[j];
  }
}

/// T (m x k, column-major, outer stride ldt) = X^T, X k x m column-major (outer stride ldx).
template <class S>
TAPELESS_KERNEL void transpose_into(Eigen::Index k, Eigen::Index m, const S* x, Eigen::Index ldx, S* t,
                                    Eigen::Index ldt) {
  transpose_rows<S>(
      m, k, [&](Eigen::Index i) { return x + i * ldx; }, t, ldt);
}

}  // namespace tapeless::detail
