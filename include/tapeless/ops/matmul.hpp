/// @file
/// @brief `matmul(a, b)`: the matrix product, a (m x k) times b (k x n).
///
/// Forward: y = a b.   Adjoint: da += g b^T,  db += a^T g.
#pragma once

#include "tapeless/core/node.hpp"

#include <string_view>
#include <utility>

namespace tapeless::ops {
struct MatMul {
  static constexpr std::string_view name = "matmul";
  static constexpr Dims shape(Dims a, Dims b) { return {a.rows, b.cols}; }
  static constexpr bool valid(Dims a, Dims b) { return dims_fit(a.cols, b.rows); }
  template <class Y, class A, class B>
  void forward(Y& y, const A& a, const B& b) const {
    y.noalias() = a * b;
  }
  template <class D, class G, class Y, class A, class B>
  void backward(D& d, const G& g, const Y&, const A& a, const B& b) const {
    d[arg<0>] += g * b.transpose();
    d[arg<1>] += a.transpose() * g;
  }
};
}  // namespace tapeless::ops

namespace tapeless {
/// The matrix product of a (m x k) and b (k x n).
template <Operand A, Operand B>
  requires ExprLike<A> && ExprLike<B>
auto matmul(A&& a, B&& b) {
  return make_node(ops::MatMul{}, std::forward<A>(a), std::forward<B>(b));
}
}  // namespace tapeless
