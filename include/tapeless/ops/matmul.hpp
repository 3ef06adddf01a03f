/// @file
/// @brief `matmul(a, b)`: the matrix product, a (m x k) times b (k x n).
///
/// Forward: y = a b.   Adjoint: da += g b^T,  db += a^T g.
/// The three products keep their GEMM packing buffers in the workspace: a step allocates nothing.
#pragma once

#include "tapeless/core/node.hpp"

#include <string_view>
#include <utility>

namespace tapeless::ops {
struct MatMul {
  static constexpr std::string_view name = "matmul";
  static constexpr Dims shape(Dims a, Dims b) { return {a.rows, b.cols}; }
  static constexpr bool valid(Dims a, Dims b) { return dims_fit(a.cols, b.rows); }
  static constexpr bool workspace_is_scratch = true;  // packing buffers only
  /// The products y = a b, da = g b^T and db = a^T g.
  template <class S, Dims, Dims>
  struct workspace {
    Product<S> y, da, db;
  };
  template <class W>
  static void reserve(W& w, Dims a, Dims b) {
    w.y.reserve(a.rows, b.cols, a.cols);
    w.da.reserve(a.rows, b.rows, b.cols);
    w.db.reserve_transposed(a.cols, b.cols, a.rows);
  }

  template <class Y, class W, class A, class B>
  void forward(Y& y, W& w, const A& a, const B& b) const {
    w.y.assign(y, a, b);
  }
  template <class D, class G, class Y, class W, class A, class B>
  void backward(D& d, const G& g, const Y&, W& w, const A& a, const B& b) const {
    d[arg<0>].add_product(g, b.transpose(), w.da);
    d[arg<1>].add_product(a.transpose(), g, w.db);
  }
};
}  // namespace tapeless::ops

namespace tapeless {
/// The matrix product of a (m x k) and b (k x n).
template <Operand A, Operand B>
requires ExprLike<A> && ExprLike<B>
auto matmul(A&& a, B&& b) { return make_node(ops::MatMul{}, std::forward<A>(a), std::forward<B>(b)); }
}  // namespace tapeless
