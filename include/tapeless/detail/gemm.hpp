/// @file
/// @brief Matrix products that never allocate during a step. No stability promise.
///
/// Eigen's GEMM packs its operands into buffers it allocates on the heap when they exceed
/// EIGEN_STACK_ALLOCATION_LIMIT (a 784x256 layer at batch 64 does). A `Gemm` keeps those
/// buffers for one product of the program: `reserve()` (called when the program sizes its
/// storage) allocates them for the product's shape, `run()` then calls Eigen's own GEMM kernel
/// with them. Products that Eigen computes without GEMM (small ones, matrix-vector ones) go
/// through Eigen's ordinary expression, which does not allocate for them either.
#pragma once

#include "tapeless/core/shape.hpp"

#include <Eigen/Core>

#include <memory>
#include <type_traits>

namespace tapeless::detail {

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

template <class S>
class Gemm {
  using blocking_type = Eigen::internal::gemm_blocking_space<Eigen::ColMajor, S, S, Eigen::Dynamic, Eigen::Dynamic,
                                                             Eigen::Dynamic, 1, false>;

 public:
  Gemm() = default;
  Gemm(const Gemm& other) { reserve(other.rows_, other.cols_, other.depth_); }  // own buffers
  Gemm& operator=(const Gemm& other) {
    if (this != &other) reserve(other.rows_, other.cols_, other.depth_);
    return *this;
  }
  Gemm(Gemm&&) noexcept = default;
  Gemm& operator=(Gemm&&) noexcept = default;

  /// True when Eigen would use its GEMM kernel for a rows x depth times depth x cols product.
  /// A depth of 1 (an outer product: a batch of one in dW = x^T g) never does: run() computes
  /// it as Eigen's outer product, one pass over dst, where GEMM would pack both operands first.
  static bool uses_gemm(Index rows, Index cols, Index depth) noexcept {
    return rows > 1 && cols > 1 && depth > 1 && rows + cols + depth >= EIGEN_GEMM_TO_COEFFBASED_THRESHOLD;
  }

  /// Allocates the packing buffers for this shape (once; again only if the shape changes).
  void reserve(Index rows, Index cols, Index depth) {
    if (!uses_gemm(rows, cols, depth) || (blocking_ && rows == rows_ && cols == cols_ && depth == depth_)) return;
    blocking_ = std::make_unique<blocking_type>(rows, cols, depth, 1, true);
    blocking_->allocateAll();
    rows_ = rows;
    cols_ = cols;
    depth_ = depth;
  }

  /// dst = a b (or dst += a b): a and b are plain matrices or maps, or transposes of them.
  template <class Dst, class A, class B>
  void run(Dst& dst, const A& a, const B& b, bool accumulate) {
    const Index rows = dst.rows(), cols = dst.cols(), depth = a.cols();
    if (depth == 1) {
      if (accumulate)
        dst.noalias() += a.col(0) * b.row(0);
      else
        dst.noalias() = a.col(0) * b.row(0);
      return;
    }
    if constexpr (!Dst::IsRowMajor) {
      if (blocking_ && rows == rows_ && cols == cols_ && depth == depth_) {
        if (!accumulate) dst.setZero();
        const auto& pa = gemm_operand<A>::plain(a);
        const auto& pb = gemm_operand<B>::plain(b);
        Eigen::internal::general_matrix_matrix_product<Index, S, gemm_order<A>(), false, S, gemm_order<B>(), false,
                                                       Eigen::ColMajor, 1>::run(rows, cols, depth, pa.data(),
                                                                                pa.outerStride(), pb.data(),
                                                                                pb.outerStride(), dst.data(), 1,
                                                                                dst.outerStride(), S(1), *blocking_);
        return;
      }
    }
    if (accumulate)
      dst.noalias() += a * b;
    else
      dst.noalias() = a * b;
  }

 private:
  std::unique_ptr<blocking_type> blocking_;
  Index rows_ = -1, cols_ = -1, depth_ = -1;
};

}  // namespace tapeless::detail
