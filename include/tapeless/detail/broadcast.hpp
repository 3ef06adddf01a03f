/// @file
/// @brief Scalar broadcasting for the elementwise binary ops (+ - * /), and a bias row added to
/// every row (`add_to_rows`: affine, bias_add). No stability promise.
///
/// When exactly one operand of an elementwise op is 1x1 at compile time, it is broadcast to the
/// other's shape. The choice is made from compile-time shapes only (`Broadcast` in the op's
/// type), so a batch that happens to have one row at run time is never broadcast by accident.
#pragma once

#include "tapeless/core/node.hpp"
#include "tapeless/core/shape.hpp"
#include "tapeless/detail/one_row.hpp"

#include <Eigen/Core>

#include <utility>

namespace tapeless::ops {

enum class Broadcast { none, lhs, rhs };

/// The elementwise shape rule, result shape and broadcast mode shared by + - * /.
template <Broadcast B>
struct elementwise_shape {
  static constexpr Dims shape(Dims a, Dims b) { return B == Broadcast::lhs ? b : a; }
  static constexpr bool valid(Dims a, Dims b) {
    if constexpr (B == Broadcast::none)
      return dims_fit(a, b);
    else
      return true;
  }
};

/// The broadcast mode for operands of these compile-time shapes.
constexpr Broadcast broadcast_for(Dims a, Dims b) {
  if (is_scalar_dims(a) && !is_scalar_dims(b)) return Broadcast::lhs;
  if (is_scalar_dims(b) && !is_scalar_dims(a)) return Broadcast::rhs;
  return Broadcast::none;
}

}  // namespace tapeless::ops

namespace tapeless::detail {

/// Operand `a` as an array of the result's shape `y` (a 1x1 operand broadcast when `Bcast`).
template <bool Bcast, class A, class Y>
auto broadcast(const A& a, const Y& y) {
  if constexpr (Bcast)
    return Y::Constant(y.rows(), y.cols(), a(0, 0)).array();
  else
    return a.array();
}

/// An adjoint array `x` of the result's shape, brought back to an operand's shape: summed to a
/// number for a broadcast operand, as a matrix otherwise.
template <bool Bcast, class X>
auto unbroadcast(const X& x) {
  if constexpr (Bcast)
    return x.sum();
  else
    return x.matrix();
}

/// Builds an elementwise binary node `Op<mode>(a, b)`: a number operand becomes a constant of
/// the other operand's scalar type, and the broadcast mode follows the compile-time shapes.
template <template <ops::Broadcast> class Op, class L, class R>
auto make_elementwise(L&& a, R&& b) {
  using A = as_expr_t<decltype(lift<R>(std::forward<L>(a)))>;
  using B = as_expr_t<decltype(lift<L>(std::forward<R>(b)))>;
  return make_node(Op<ops::broadcast_for(dims_v<A>, dims_v<B>)>{}, lift<R>(std::forward<L>(a)),
                   lift<L>(std::forward<R>(b)));
}

/// y += b on every row of y (b: 1 x y.cols()). A single row is added as one vector: Eigen's
/// `rowwise() +=` runs a row of n coefficients as n one-row columns, scalar adds and stores (at
/// 4-16-16-3, batch 1, the next op's packet load of those stores then stalls on store
/// forwarding). So a row fixed at compile time, or a run-time batch of one contiguous row, is
/// added as a row vector; more rows go column by column through rowwise(), which Eigen
/// vectorises down each column. The same additions either way: the same bits.
template <class Y, class B>
void add_to_rows(Y& y, const B& b) {
  using S = typename Y::Scalar;
  if constexpr (Y::RowsAtCompileTime == 1) {
    y += b.row(0);
  } else {
    if constexpr (Y::RowsAtCompileTime == Eigen::Dynamic && column_major_direct<Y>) {
      if (one_contiguous_row(y)) {
        constexpr int n =
            Y::ColsAtCompileTime != Eigen::Dynamic ? int{Y::ColsAtCompileTime} : int{B::ColsAtCompileTime};
        Eigen::Map<Eigen::Matrix<S, 1, n>>(y.data(), 1, y.cols()) += b.row(0);
        return;
      }
    }
    y.rowwise() += b.row(0);
  }
}

/// Calls `f` with the column sums of g (1 x g.cols(): the adjoint of a bias row added to every
/// row). A run-time batch of one contiguous row is passed as that row itself: `colwise().sum()`
/// over a matrix whose row count is known only at run time sets up one reduction per column,
/// 9% of a 4-16-16-3 training step at run-time batch 1. The sum of one coefficient is that
/// coefficient, so the bits are the same. Anything else goes to colwise().sum().
template <class G, class F>
void with_column_sums(const G& g, F&& f) {
  if constexpr (G::RowsAtCompileTime == Eigen::Dynamic && column_major_direct<G>) {
    if (one_contiguous_row(g)) {
      f(Eigen::Map<const Eigen::Matrix<typename G::Scalar, 1, G::ColsAtCompileTime>>(g.data(), 1, g.cols()));
      return;
    }
  }
  f(g.colwise().sum());
}

}  // namespace tapeless::detail
