/// @file
/// @brief `matmul(a, b)`: the matrix product, a (m x k) times b (k x n).
///
/// Forward: y = a b.   Adjoint: da += g b^T,  db += a^T g.
/// The three products keep their GEMM packing buffers as scratch: a step allocates nothing.
#pragma once

#include "tapeless/core/node.hpp"
#include "tapeless/detail/gemm.hpp"

#include <string_view>
#include <utility>

namespace tapeless::ops {
struct MatMul {
  static constexpr std::string_view name = "matmul";
  static constexpr Dims shape(Dims a, Dims b) { return {a.rows, b.cols}; }
  static constexpr bool valid(Dims a, Dims b) { return dims_fit(a.cols, b.rows); }
  /// GEMM buffers of y = a b, da = g b^T and db = a^T g.
  template <class S>
  struct scratch {
    detail::Gemm<S> y, da, db;
  };
  template <class S>
  static void reserve(scratch<S>& s, Dims a, Dims b) {
    s.y.reserve(a.rows, b.cols, a.cols);
    s.da.reserve(a.rows, b.rows, b.cols);
    s.db.reserve(a.cols, b.cols, a.rows);
  }

  template <class Y, class Scratch, class A, class B>
  void forward(Y& y, Scratch& s, const A& a, const B& b) const {
    s.y.run(y, a, b, false);
  }
  template <class D, class G, class Y, class Scratch, class A, class B>
  void backward(D& d, const G& g, const Y&, Scratch& s, const A& a, const B& b) const {
    d[arg<0>].add_product(g, b.transpose(), s.da);
    d[arg<1>].add_product(a.transpose(), g, s.db);
  }
};
}  // namespace tapeless::ops

namespace tapeless {
/// The matrix product of a (m x k) and b (k x n).
template <Operand A, Operand B>
requires ExprLike<A> && ExprLike<B>
auto matmul(A&& a, B&& b) { return make_node(ops::MatMul{}, std::forward<A>(a), std::forward<B>(b)); }
}  // namespace tapeless
