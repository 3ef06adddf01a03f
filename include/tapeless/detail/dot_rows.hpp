/// @file
/// @brief `dot_rows_add<S>(rows, depth, a, lda, x, y)`: y += A x for a row-major A, a packet of
/// rows at a time, with the bits of Eigen's row-major GEMV kernel. No stability promise.
///
/// A batch of one times a weight (z = x W, W column-major In x Out) is W^T x^T: a row-major GEMV,
/// one dot product per output. Eigen's kernel (`general_matrix_vector_product<..., RowMajor>`)
/// accumulates each row in one packet (`pmadd` down the depth, a packet at a time, from zero),
/// reduces that packet to a scalar with `predux`, and stores the scalar. At a 16 x 16 layer on
/// AVX-512 that is 16 horizontal reductions of 4 shuffles and 4 additions each, and 16 scalar
/// stores that the next op's packet load of the row must wait for (a store that cannot be
/// forwarded: bench/analysis.md, stops 31 and 35).
///
/// This kernel keeps L accumulators (L = the packet's size: one per row of a block of L rows)
/// and reduces them together: two packets at a time, their low halves of each block against
/// their high halves, into one packet with twice as many, half as long, partial sums. After
/// log2(L) levels (2 (L - 1) shuffles and L - 1 additions, against L reductions) one packet holds
/// the L sums in row order and is added to y and stored at once.
///
/// The bits are Eigen's: each row's packet is accumulated as Eigen accumulates it, and each
/// level adds lane i to lane i + h of the same block (low operand first), which is exactly the
/// pairing of Eigen 3.4's `predux` for the packets it is used with: `Packet16f` with AVX512DQ
/// (the 256-bit halves, then as `Packet8f`), `Packet8f` (128-bit halves, then as `Packet4f`:
/// a + movehl(a), then lane 0 + lane 1). Where `predux` pairs otherwise (`Packet16f` without
/// AVX512DQ adds its four quarters; `Packet8d` uses hadd) or the kernel measured no faster
/// (4-lane SSE packets, where Eigen's 8-row blocks reuse each load of x twice as often; double on
/// AVX2), `dot_rows_count` is 0 and Eigen's kernel runs. tests/detail/dot_rows.cpp compares the
/// two bit for bit (NaN, infinities, signed zeros and overflow included), built for the
/// default target and for the machine's.
///
/// Measured (-O3 -march=native, AVX-512, a call with y zeroed, minimum of 7 x 20,000): 16 x 16
/// 37 -> 22 ns, 64 x 64 160 -> 90 ns, 128 x 64 294 -> 187 ns (g++ 12; clang++ 14 alike); on AVX2
/// 0.6-0.9x Eigen's time. Past a depth of 128 the two are within noise of each other, so longer
/// rows keep Eigen's kernel.
#pragma once

#include "tapeless/core/shape.hpp"
#include "tapeless/detail/kernel_attributes.hpp"

#include <Eigen/Core>

#include <bit>
#include <type_traits>
#include <utility>

namespace tapeless::detail {

namespace dot_rows_impl {

template <class S>
using packet = typename Eigen::internal::packet_traits<S>::type;
template <class S>
inline constexpr int lanes = Eigen::internal::packet_traits<S>::size;

// Lane k of the low (Hi false) or high operand of one level: packets u and v each hold L / B
// partial sums in blocks of B lanes; the result holds 2 L / B, in blocks of B / 2, u's first.
template <int L, int B, bool Hi>
constexpr int source(int k) {
  const int h = B / 2, t = k / h, r = k % h, m = L / B;
  return (t < m ? t * B : L + (t - m) * B) + r + (Hi ? h : 0);
}
template <int L, int B, class P, int... K>
P fold(P u, P v, std::integer_sequence<int, K...>) {
  return __builtin_shufflevector(u, v, source<L, B, false>(K)...) +
         __builtin_shufflevector(u, v, source<L, B, true>(K)...);
}
// L packets (one row's accumulator each) -> one packet of L sums, row k in lane k.
template <int L, class P, int... Level>
P reduce(P (&c)[L], std::integer_sequence<int, Level...>) {
  int n = L;
  (
      [&] {
        for (int k = 0; k < n / 2; ++k)
          c[k] = fold<L, (L >> Level)>(c[2 * k], c[2 * k + 1], std::make_integer_sequence<int, L>{});
        n /= 2;
      }(),
      ...);
  return c[0];
}

}  // namespace dot_rows_impl

/// Whether `dot_rows_add` exists for S on this target: Eigen's predux for S's packet is a tree of
/// halves, low half first, and the kernel pays for it (float in 8- and 16-lane packets).
template <class S>
inline constexpr bool dot_rows_available = [] {
  if constexpr (!std::is_same_v<S, float> || !Eigen::internal::packet_traits<S>::Vectorizable) {
    return false;
  } else {
#if defined(EIGEN_VECTORIZE_AVX512) && !defined(EIGEN_VECTORIZE_AVX512DQ)
    return false;
#else
    return dot_rows_impl::lanes<S> == 8 || dot_rows_impl::lanes<S> == 16;
#endif
  }
}();

/// How many leading rows of a rows x depth row-major GEMV `dot_rows_add` takes: every whole
/// block of L rows where the kernel is available and the depth a multiple of L, at most 128;
/// 0 otherwise (Eigen's kernel then takes every row; it takes the remaining rows anyway).
template <class S>
constexpr Index dot_rows_count(Index rows, Index depth) noexcept {
  if constexpr (dot_rows_available<S>) {
    constexpr Index L = dot_rows_impl::lanes<S>;
    return depth > 0 && depth <= 128 && depth % L == 0 ? rows - rows % L : 0;
  } else {
    return 0;
  }
}

/// y += A x for `rows` rows (a multiple of the packet's size: `dot_rows_count`) of a row-major A
/// with outer stride lda, `depth` (a multiple of the packet's size) columns, x and y contiguous.
template <class S>
TAPELESS_KERNEL void dot_rows_add(Index rows, Index depth, const S* a, Index lda, const S* x, S* y) {
  static_assert(dot_rows_available<S>, "dot_rows_add: not for this scalar and target (dot_rows_count is 0)");
  using namespace Eigen::internal;
  using P = dot_rows_impl::packet<S>;
  constexpr int L = dot_rows_impl::lanes<S>;
  for (Index i = 0; i < rows; i += L) {
    P c[L];
    for (int k = 0; k < L; ++k) c[k] = pset1<P>(S(0));
    const S* row = a + i * lda;
    for (Index j = 0; j < depth; j += L) {
      const P b = ploadu<P>(x + j);
      // a pointer stepped row by row: written as row + k * lda, g++ kept 16 row addresses in
      // vector registers for want of general ones (4-16-16-3 inference 40-41 -> 36-38 ns)
      const S* r = row + j;
      for (int k = 0; k < L; ++k, r += lda) c[k] = pmadd(ploadu<P>(r), b, c[k]);
    }
    const P sums = dot_rows_impl::reduce<L>(c, std::make_integer_sequence<int, std::countr_zero(unsigned{L})>{});
    pstoreu(y + i, padd(ploadu<P>(y + i), sums));  // y + 1 * sum, as Eigen's kernel adds it
  }
}

}  // namespace tapeless::detail
