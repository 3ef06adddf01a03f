/// @file
/// @brief Every use of Eigen's internals in tapeless, in one place, behind a version check.
///
/// tapeless calls two Eigen-internal entry points: the GEMM kernel with caller-owned packing
/// buffers (`general_matrix_matrix_product` and `gemm_blocking_space`), so that a product of a
/// program allocates nothing during a step, and the GEMV kernel (`general_matrix_vector_product`)
/// for a run-time batch of one row (core/product.hpp). Internals have no stability promise, so
/// this header accepts only the Eigen series it was written and tested against (3.4) and stops
/// the build with one message otherwise.
///
/// Fallback: define `TAPELESS_PLAIN_EIGEN` (before any tapeless header, or with -D) to use no
/// internal at all. Products are then plain `dst.noalias() = a * b`: same values, but Eigen packs
/// large products into buffers it allocates on each call (tests/engine/no_allocation.cpp then
/// counts allocations for products beyond EIGEN_STACK_ALLOCATION_LIMIT).
#pragma once

#include "tapeless/detail/dot_rows.hpp"
#include "tapeless/detail/kernel_attributes.hpp"

#include <Eigen/Core>

#include <type_traits>
#include <utility>

#if !defined(TAPELESS_PLAIN_EIGEN) && !(EIGEN_WORLD_VERSION == 3 && EIGEN_MAJOR_VERSION == 4)
#error \
    "tapeless uses Eigen 3.4's internal GEMM entry points (tapeless/detail/eigen_compat.hpp): this Eigen is another version. Define TAPELESS_PLAIN_EIGEN to use plain noalias() products instead."
#endif

namespace tapeless::detail::eigen_compat {

/// True when products run Eigen's GEMM kernel with caller-owned buffers (false under
/// TAPELESS_PLAIN_EIGEN).
#ifdef TAPELESS_PLAIN_EIGEN
inline constexpr bool owns_gemm_buffers = false;
#else
inline constexpr bool owns_gemm_buffers = true;
#endif

template <class X>
struct gemm_operand {
  static constexpr bool transposed = false;
  static const X& plain(const X& x) noexcept { return x; }
};
template <class X>
struct gemm_operand<Eigen::Transpose<X>> {
  static constexpr bool transposed = true;
  static const std::remove_const_t<X>& plain(const Eigen::Transpose<X>& x) noexcept { return x.nestedExpression(); }
};

/// The storage order in which GEMM reads operand X (a plain matrix or map, or its transpose).
template <class X>
constexpr int gemm_order() {
  using P = std::remove_cvref_t<decltype(gemm_operand<X>::plain(std::declval<const X&>()))>;
  return (static_cast<bool>(P::IsRowMajor) != gemm_operand<X>::transposed) ? Eigen::RowMajor : Eigen::ColMajor;
}

/// Where operand X (a plain matrix or map, or its transpose) keeps its coefficients: X(i, j) at
/// data[i * rows + j * cols] of its plain matrix's data, for unit inner stride.
struct operand_strides {
  Eigen::Index rows, cols;
};
template <class X>
operand_strides strides_of(const X& x) noexcept {
  const Eigen::Index outer = gemm_operand<X>::plain(x).outerStride();
  return gemm_order<X>() == Eigen::ColMajor ? operand_strides{1, outer} : operand_strides{outer, 1};
}

/// True when Eigen would use its GEMM kernel for a rows x depth times depth x cols product.
constexpr bool uses_gemm(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth) noexcept {
  return rows > 1 && cols > 1 && depth > 1 && rows + cols + depth >= EIGEN_GEMM_TO_COEFFBASED_THRESHOLD;
}

#ifndef TAPELESS_PLAIN_EIGEN
/// GEMM packing buffers for one product shape, allocated once.
template <class S>
using gemm_buffers = Eigen::internal::gemm_blocking_space<Eigen::ColMajor, S, S, Eigen::Dynamic, Eigen::Dynamic,
                                                          Eigen::Dynamic, 1, false>;

/// dst += a b through Eigen's GEMM kernel with the caller's buffers: dst is column-major; a and b
/// are plain matrices or maps, or transposes of them.
template <class S, class Dst, class A, class B>
void gemm_add(Dst& dst, const A& a, const B& b, gemm_buffers<S>& buffers) {
  const auto& pa = gemm_operand<A>::plain(a);
  const auto& pb = gemm_operand<B>::plain(b);
  Eigen::internal::general_matrix_matrix_product<Eigen::Index, S, gemm_order<A>(), false, S, gemm_order<B>(), false,
                                                 Eigen::ColMajor, 1>::run(dst.rows(), dst.cols(), a.cols(), pa.data(),
                                                                          pa.outerStride(), pb.data(), pb.outerStride(),
                                                                          dst.data(), 1, dst.outerStride(), S(1),
                                                                          buffers);
}

/// y += A x through Eigen's GEMV kernel, called as Eigen's own product calls it for a matrix
/// times a contiguous vector into a contiguous vector. A is rows x cols in storage order `Order`
/// with outer stride lda. One instance per scalar and order, whatever the call site. A row-major
/// A's whole blocks of a packet of rows go to `detail::dot_rows_add` where it is available and
/// pays (detail/dot_rows.hpp): Eigen's bits, reduced together and stored as one packet.
/// A kernel (TAPELESS_KERNEL): inlined into a caller whose sizes are constants, g++ 12 clones
/// Eigen's GEMV kernel for them and warns (-Waggressive-loop-optimizations) about its loops on
/// paths those sizes rule out, in the user's -O3 build (tests/warnings/user_program.cpp, a
/// 64-64-64-10 network at batch 1).
template <class S, int Order>
TAPELESS_KERNEL void gemv_add(Eigen::Index rows, Eigen::Index cols, const S* a, Eigen::Index lda, const S* x, S* y) {
  if constexpr (Order == Eigen::RowMajor && dot_rows_available<S>) {
    if (const Eigen::Index n = dot_rows_count<S>(rows, cols); n > 0) {
      dot_rows_add<S>(n, cols, a, lda, x, y);
      if (n == rows) return;
      rows -= n;
      a += n * lda;
      y += n;
    }
  }
  using Lhs = Eigen::internal::const_blas_data_mapper<S, Eigen::Index, Order>;
  using Rhs = Eigen::internal::const_blas_data_mapper<S, Eigen::Index,
                                                      Order == Eigen::RowMajor ? Eigen::ColMajor : Eigen::RowMajor>;
  Eigen::internal::general_matrix_vector_product<Eigen::Index, S, Lhs, Order, false, S, Rhs, false>::run(
      rows, cols, Lhs(a, lda), Rhs(x, 1), y, 1, S(1));
}
#else
template <class S, int Order>
void gemv_add(Eigen::Index rows, Eigen::Index cols, const S* a, Eigen::Index lda, const S* x, S* y) {
  using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Order>;
  using Vector = Eigen::Matrix<S, Eigen::Dynamic, 1>;
  Eigen::Map<Vector>(y, rows).noalias() +=
      Eigen::Map<const Matrix, 0, Eigen::OuterStride<>>(a, rows, cols, Eigen::OuterStride<>(lda)) *
      Eigen::Map<const Vector>(x, cols);
}
template <class S>
struct gemm_buffers {  // the fallback keeps no buffers
  gemm_buffers(Eigen::Index, Eigen::Index, Eigen::Index, Eigen::Index, bool) {}
  void allocateAll() {}
};
template <class S, class Dst, class A, class B>
void gemm_add(Dst& dst, const A& a, const B& b, gemm_buffers<S>&) {
  dst.noalias() += a * b;
}
#endif

}  // namespace tapeless::detail::eigen_compat
