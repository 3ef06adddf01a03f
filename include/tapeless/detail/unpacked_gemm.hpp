/// @file
/// @brief Matrix products straight from the operands, with no packing: `unpacked_gemm` (C = A B,
/// A column-major and at least one packet tall), `unpacked_gemm_tn` (C = A^T G, a small C) and
/// `unpacked_gemm_at` (C = X^T G through one transposed copy of X, a larger C);
/// and two loops that spare Product Eigen's product expressions: `small_gemm` (shapes Eigen
/// multiplies coefficient-wise) and `outer_gemm` (depth 1). Core/product.hpp chooses them; no
/// stability promise.
///
/// Eigen's GEMM copies both operands into packed buffers on every call, then runs a micro-kernel
/// of 3 packets by 4 columns (12 accumulators, on AVX-512 too, which has 32 vector registers).
/// The products of a network are batch x width times width x width: the packing is a large part
/// of the work at small sizes, and the micro-kernel leaves half the registers idle at every size.
/// `unpacked_gemm` reads A's columns where they lie (a column-major A is already a packed panel:
/// a packet of rows at a time) and broadcasts B's coefficients from where they lie (B is read
/// through two strides, so a weight and its transpose are the same call): per depth step, RP
/// packet loads of A, NB broadcasts of B, RP x NB multiply-adds into RP x NB accumulators, sized
/// from the architecture's register count (3 x 8 on AVX-512, 2 x 4 on AVX2 and SSE). Measured on
/// AVX-512 (bench/analysis.md, "Stop 27"), against Eigen's GEMM with reserved buffers: 0.4-0.6x
/// the time for small layers (32 x 16 times 16 x 16), 0.5-0.7x for 64 x 784 times 784 x 256.
///
/// Each coefficient of C is A's row times B's column summed in depth order, one multiply-add per
/// term (fused where the packet has FMA), from zero; `Add` then adds that sum to C. Every row is
/// computed by the same packet code: rows past the last whole block of packets go through one
/// packet that ends at the last row, computed into a local block, of which only the rows not yet
/// written are stored. So a coefficient's bits depend on the depth and the two operand rows only,
/// not on where the row sits, the batch size or the alignment.
///
/// `unpacked_gemm_tn` is the weight gradient x^T g for a small weight (the caller decides: at
/// most 64 coefficients, where it measured 0.2-0.5x Eigen's GEMM): blocks of 4 x 4 dot products
/// down the batch, a packet of rows at a time, then each summed across its packet (Eigen's
/// predux) and the rows past the last packet added in order. A larger weight gradient goes
/// through `unpacked_gemm_at`: x (batch-major: each column a feature down the batch) is copied
/// transposed into a panel, a packet by a packet in registers, which `unpacked_gemm` then reads
/// as its A; the copy is 2-5% of the product, and the result is written, not added to a zeroed
/// destination (Eigen's GEMM only adds). 0.66-0.79x Eigen's GEMM on AVX-512 from 16 x 16 x 32 to
/// 784 x 256 x 128.
#pragma once

#include "tapeless/detail/kernel_attributes.hpp"
#include "tapeless/detail/repeat_load.hpp"
#include "tapeless/detail/transpose.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <utility>

namespace tapeless::detail {

/// Vector registers and the register blocks that fit them (the file comment).
inline constexpr int unpacked_registers = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS;
inline constexpr int unpacked_max_cols = unpacked_registers >= 32 ? 8 : unpacked_registers >= 16 ? 4 : 2;
template <int NB>
inline constexpr int unpacked_row_packets = std::clamp((unpacked_registers - 2) / (NB + 1), 1, 4);

/// Whether `unpacked_gemm` is the faster way to a rows x depth times depth x cols product of S
/// (for a GEMM shape, the caller checks that): at least one packet of rows, and with fewer than
/// 32 vector registers a weight of at most 64 x 64 coefficients. Measured on AVX-512 against
/// Eigen's GEMM with reserved buffers, 0.4-0.7x from 32x4x16 to 256x512x512; built for AVX2
/// (16 registers, a 2 x 4 block), 0.27-0.86x up to 64x64 weights but 1.04-1.08x from 784x256 up,
/// where re-reading the rows for every 4 columns costs more than Eigen's packing.
template <class S>
constexpr bool unpacked_gemm_pays(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth) noexcept {
  return rows >= Eigen::internal::packet_traits<S>::size && (unpacked_registers >= 32 || depth * cols <= 64 * 64);
}

/// Whether `unpacked_gemm_at` is the faster way to a weight gradient C = X^T G (C rows x cols, a
/// batch of `depth` rows; for a GEMM shape, the caller checks that): at least one packet of rows,
/// and with fewer than 32 vector registers at most 64 x 64 x 32 multiply-adds. Measured against
/// Eigen's GEMM with reserved buffers (bench/analysis.md, "Stop 28"): on AVX-512 0.66-0.79x from
/// 16 x 16 x 32 to 784 x 256 x 128; built for AVX2, 0.78-1.0x up to 64 x 64 x 32, 0.94-1.16x above.
template <class S>
constexpr bool unpacked_gemm_at_pays(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth) noexcept {
  return rows >= Eigen::internal::packet_traits<S>::size &&
         (unpacked_registers >= 32 || rows * cols * depth <= 64 * 64 * 32);
}

/// True for a scalar the kernels vectorise (float, double).
template <class S>
inline constexpr bool unpacked_scalar =
    Eigen::internal::packet_traits<S>::Vectorizable&& Eigen::internal::packet_traits<S>::size > 1;

namespace unpacked {
using Eigen::Index;

/// Sets an R x C block of packet accumulators to zero.
template <class P, int R, int C>
inline void zero(P (&acc)[R][C]) {
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < C; ++j)
      acc[r][j] = Eigen::internal::pset1<P>(typename Eigen::internal::unpacket_traits<P>::type(0));
}

/// RP packets of rows [i, i + RP L) by NB columns of C = A B, stored into C (+= with `Add`), or
/// with `ToLocal` into local[j * RP L + r] (c then points there, and ldc is unused).
template <bool Add, bool ToLocal, class S, int RP, int NB>
inline void block(Index k, const S* a, Index lda, const S* b, Index bk, Index bj, S* c, Index ldc, Index i) {
  using namespace Eigen::internal;
  using P = typename packet_traits<S>::type;
  constexpr Index L = packet_traits<S>::size;
  P acc[RP][NB];
  zero(acc);
  for (Index d = 0; d < k; ++d) {
    P x[RP];
    for (int r = 0; r < RP; ++r) x[r] = ploadu<P>(a + d * lda + i + r * L);
    for (int j = 0; j < NB; ++j) {
      const P w = pset1<P>(b[d * bk + j * bj]);
      for (int r = 0; r < RP; ++r) acc[r][j] = pmadd(x[r], w, acc[r][j]);
    }
  }
  for (int r = 0; r < RP; ++r)
    for (int j = 0; j < NB; ++j) {
      if constexpr (ToLocal) {
        pstoreu(c + j * RP * L + r * L, acc[r][j]);
      } else {
        S* to = c + j * ldc + i + r * L;
        pstoreu(to, Add ? padd(ploadu<P>(to), acc[r][j]) : acc[r][j]);
      }
    }
}

/// NB columns of C = A B, every row.
template <bool Add, class S, int NB>
[[gnu::noinline]] void columns(Index m, Index k, const S* a, Index lda, const S* b, Index bk, Index bj, S* c,
                               Index ldc) {
  constexpr Index L = Eigen::internal::packet_traits<S>::size;
  constexpr int RP = unpacked_row_packets<NB>;
  Index i = 0;
  for (; i + RP * L <= m; i += RP * L) block<Add, false, S, RP, NB>(k, a, lda, b, bk, bj, c, ldc, i);
  for (; i + L <= m; i += L) block<Add, false, S, 1, NB>(k, a, lda, b, bk, bj, c, ldc, i);
  if (i == m) return;
  // Rows [i, m), fewer than a packet: the packet [m - L, m) into a local block, then its last
  // m - i rows (the others are written already).
  S local[NB * L];
  block<false, true, S, 1, NB>(k, a, lda, b, bk, bj, local, 0, m - L);
  for (int j = 0; j < NB; ++j)
    for (Index r = i; r < m; ++r) {
      const S v = local[j * L + (r - (m - L))];
      S& to = c[j * ldc + r];
      to = Add ? to + v : v;
    }
}

template <bool Add, class S, int... NB>
void remaining_columns(Index n, Index m, Index k, const S* a, Index lda, const S* b, Index bk, Index bj, S* c,
                       Index ldc, std::integer_sequence<int, NB...>) {
  // n < unpacked_max_cols: the instance for exactly n columns
  ((n == NB + 1 ? columns<Add, S, NB + 1>(m, k, a, lda, b, bk, bj, c, ldc) : void()), ...);
}

/// A block of KB x NB dot products down m rows: C(r, j) (+)= A(:, r) . G(:, j).
template <bool Add, class S, int KB, int NB>
[[gnu::noinline]] void dots(Index m, const S* a, Index lda, const S* g, Index ldg, S* c, Index ldc) {
  using namespace Eigen::internal;
  using P = typename packet_traits<S>::type;
  constexpr Index L = packet_traits<S>::size;
  P acc[KB][NB];
  zero(acc);
  const Index whole = m / L * L;  // then fewer than L rows, added one by one
  for (Index t = 0; t < whole; t += L) {
    P x[KB], y[NB];
    for (int r = 0; r < KB; ++r) x[r] = ploadu<P>(a + r * lda + t);
    for (int j = 0; j < NB; ++j) y[j] = ploadu<P>(g + j * ldg + t);
    for (int r = 0; r < KB; ++r)
      for (int j = 0; j < NB; ++j) acc[r][j] = pmadd(x[r], y[j], acc[r][j]);
  }
  for (int r = 0; r < KB; ++r)
    for (int j = 0; j < NB; ++j) {
      S s = predux(acc[r][j]);
      for (Index u = whole; u < m; ++u) s = pmadd(a[r * lda + u], g[j * ldg + u], s);
      S& to = c[j * ldc + r];
      to = Add ? to + s : s;
    }
}
}  // namespace unpacked

/// C (m x n, column-major, outer stride ldc) = A B, or += with `Add`: A m x k column-major (outer
/// stride lda), B(d, j) at b[d * bk + j * bj]. Needs m >= the packet size of S.
template <bool Add, class S>
void unpacked_gemm(Eigen::Index m, Eigen::Index n, Eigen::Index k, const S* a, Eigen::Index lda, const S* b,
                   Eigen::Index bk, Eigen::Index bj, S* c, Eigen::Index ldc) {
  static_assert(unpacked_scalar<S>);
  eigen_assert(m >= Eigen::internal::packet_traits<S>::size);
  constexpr int NB = unpacked_max_cols;
  Eigen::Index j = 0;
  for (; j + NB <= n; j += NB) unpacked::columns<Add, S, NB>(m, k, a, lda, b + j * bj, bk, bj, c + j * ldc, ldc);
  if (j < n)
    unpacked::remaining_columns<Add, S>(n - j, m, k, a, lda, b + j * bj, bk, bj, c + j * ldc, ldc,
                                        std::make_integer_sequence<int, NB - 1>{});
}

/// C (m x n, column-major, outer stride ldc) = X^T G, or += with `Add`: the weight gradient x^T g
/// of a batch of k rows, X k x m and G k x n column-major (outer strides ldx, ldg). X is copied
/// transposed into `panel` (m k scalars), which unpacked_gemm then reads as its A (so every
/// coefficient is its k products summed in batch order, as unpacked_gemm sums). Needs m >= the
/// packet size of S.
template <bool Add, class S>
void unpacked_gemm_at(Eigen::Index m, Eigen::Index n, Eigen::Index k, const S* x, Eigen::Index ldx, const S* g,
                      Eigen::Index ldg, S* panel, S* c, Eigen::Index ldc) {
  transpose_into<S>(k, m, x, ldx, panel, m);
  unpacked_gemm<Add, S>(m, n, k, panel, m, g, 1, ldg, c, ldc);
}

/// C (m x n, column-major, outer stride ldc) = A B, or += with `Add`, one coefficient at a time:
/// A(i, d) at a[i * ai + d * ad], B(d, j) at b[d * bk + j * bj]. For products too small for
/// anything else to pay (Eigen's coefficient-wise product's sizes), one instance per scalar.
template <bool Add, class S>
void small_gemm(Eigen::Index m, Eigen::Index n, Eigen::Index k, const S* a, Eigen::Index ai, Eigen::Index ad,
                const S* b, Eigen::Index bk, Eigen::Index bj, S* c, Eigen::Index ldc) {
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = 0; i < m; ++i) {
      S s(0);
      for (Eigen::Index d = 0; d < k; ++d) s += a[i * ai + d * ad] * b[d * bk + j * bj];
      S& to = c[j * ldc + i];
      to = Add ? to + s : s;
    }
}

/// C (m x n, column-major, outer stride ldc) = a b, or += with `Add`: the outer product of a column
/// a (a[i * ai]) and a row b (b[j * bj]), a product of depth 1 (dw = x^T g at batch 1). Down each
/// column, packets where a is contiguous: C(i, j) is a_i b_j rounded once, then added to C(i, j)
/// (the values Eigen's outer product gives). A kernel (TAPELESS_KERNEL): inlined into, or cloned
/// for, a caller of fixed sizes, g++ 12 warns of its scalar loops' iterations on a path that
/// caller never takes (-Waggressive-loop-optimizations); one call per product.
template <bool Add, class S>
TAPELESS_KERNEL void outer_gemm(Eigen::Index m, Eigen::Index n, const S* a, Eigen::Index ai, const S* b,
                                Eigen::Index bj, S* c, Eigen::Index ldc) {
  using namespace Eigen::internal;
  using P = typename packet_traits<S>::type;
  constexpr Eigen::Index L = packet_traits<S>::size;
  if (ai == 1 && bj == 1 && ldc == m && (m == 1 || m == 2 || (m == 4 && L <= 16)) && m < L && m * n >= L) {
    // Columns shorter than a packet (dw of a layer of 1, 2 or 4 inputs), C contiguous: whole
    // packets across columns, a repeated down the packet and each b_j m times
    // (repeat_load), instead of one scalar store per coefficient that the optimizer's
    // packet loads of dw would then wait for.
    S repeated[L];
    for (Eigen::Index l = 0; l < L; l += m)
      for (Eigen::Index i = 0; i < m; ++i) repeated[l + i] = a[i];
    const P pa = ploadu<P>(repeated);
    const Eigen::Index size = m * n;
    Eigen::Index e = 0;
    for (; e + L <= size; e += L) {
      const P pb = repeat_load<P>(b, e, m);
      const P v = pmul(pa, pb);
      pstoreu(c + e, Add ? padd(ploadu<P>(c + e), v) : v);
    }
    for (; e < size; ++e) {
      const S v = a[e % m] * b[e / m];
      c[e] = Add ? c[e] + v : v;
    }
    return;
  }
  for (Eigen::Index j = 0; j < n; ++j) {
    const S w = b[j * bj];
    S* to = c + j * ldc;
    Eigen::Index i = 0;
    if (ai == 1) {
      const P pw = pset1<P>(w);
      for (; i + L <= m; i += L) {
        const P v = pmul(ploadu<P>(a + i), pw);
        pstoreu(to + i, Add ? padd(ploadu<P>(to + i), v) : v);
      }
    }
    for (; i < m; ++i) {
      const S v = a[i * ai] * w;
      to[i] = Add ? to[i] + v : v;
    }
  }
}

/// C (k x n, column-major, outer stride ldc) = A^T G, or += with `Add`: A m x k and G m x n
/// column-major (outer strides lda, ldg). For a small C (the file comment).
template <bool Add, class S>
TAPELESS_KERNEL void unpacked_gemm_tn(Eigen::Index m, Eigen::Index k, Eigen::Index n, const S* a, Eigen::Index lda,
                                      const S* g, Eigen::Index ldg, S* c, Eigen::Index ldc) {
  static_assert(unpacked_scalar<S>);
  Eigen::Index r = 0;
  for (; r + 4 <= k; r += 4) {
    Eigen::Index j = 0;
    for (; j + 4 <= n; j += 4)
      unpacked::dots<Add, S, 4, 4>(m, a + r * lda, lda, g + j * ldg, ldg, c + j * ldc + r, ldc);
    for (; j < n; ++j) unpacked::dots<Add, S, 4, 1>(m, a + r * lda, lda, g + j * ldg, ldg, c + j * ldc + r, ldc);
  }
  for (; r < k; ++r) {
    Eigen::Index j = 0;
    for (; j + 4 <= n; j += 4)
      unpacked::dots<Add, S, 1, 4>(m, a + r * lda, lda, g + j * ldg, ldg, c + j * ldc + r, ldc);
    for (; j < n; ++j) unpacked::dots<Add, S, 1, 1>(m, a + r * lda, lda, g + j * ldg, ldg, c + j * ldc + r, ldc);
  }
}

}  // namespace tapeless::detail
