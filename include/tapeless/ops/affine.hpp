/// @file
/// @brief `affine(x, w, b)` = x w + b: the fused Linear-layer op (one node, no temporaries).
///
/// x is m x k (a batch of rows), w is k x n, b is 1 x n, added to every row.
/// Forward: y = x w + b.   Adjoint: dx += g w^T,  dw += x^T g,  db += sum over rows of g.
/// It computes exactly what matmul(x, w) followed by bias_add(., b) does, in one pass. Its three
/// products keep their GEMM packing buffers in the workspace: a step allocates nothing.
#pragma once

#include "tapeless/core/node.hpp"
#include "tapeless/detail/broadcast.hpp"

#include <string_view>
#include <utility>

namespace tapeless::ops {
struct Affine {
  static constexpr std::string_view name = "affine (x w + b)";
  static constexpr Dims shape(Dims x, Dims w, Dims) { return {x.rows, w.cols}; }
  static constexpr bool valid(Dims x, Dims w, Dims b) {
    return dims_fit(x.cols, w.rows) && dims_fit(b.rows, 1) && dims_fit(b.cols, w.cols);
  }
  static constexpr bool workspace_is_scratch = true;  // packing buffers, and a flag its caller sets
  /// The products y = x w, dx = g w^T and dw = x^T g. `deferred`: backward leaves dw and db to
  /// its caller, who forms them itself (a Trainer's step at one row, where the optimizer's update
  /// computes x^T g as it goes: optim/sgd.hpp, `check_outer`); it still computes dx. Set for one
  /// backward at a time (network/trainer.hpp).
  template <class S, Dims, Dims, Dims>
  struct workspace {
    Product<S> y, dx, dw;
    bool deferred = false;
  };
  template <class P>
  static void reserve(P& p, Dims x, Dims w, Dims) {
    p.y.reserve(x.rows, w.cols, x.cols);
    p.dx.reserve(x.rows, w.rows, w.cols);
    p.dw.reserve_transposed(w.rows, w.cols, x.rows);
  }

  template <class Y, class P, class X, class W, class B>
  void forward(Y& y, P& p, const X& x, const W& w, const B& b) const {
    p.y.assign(y, x, w);
    detail::add_to_rows(y, b);
  }
  template <class D, class G, class Y, class P, class X, class W, class B>
  void backward(D& d, const G& g, const Y&, P& p, const X& x, const W& w, const B&) const {
    d[arg<0>].add_product(g, w.transpose(), p.dx);
    if (p.deferred) return;
    d[arg<1>].add_product(x.transpose(), g, p.dw);
    detail::with_column_sums(g, [&](const auto& sums) { d[arg<2>] += sums; });
  }
};
}  // namespace tapeless::ops

namespace tapeless {
/// x w + b, with `b` (1 x n) added to every row.
template <Operand X, Operand W, Operand B>
requires ExprLike<X> && ExprLike<W> && ExprLike<B>
auto affine(X&& x, W&& w, B&& b) {
  return make_node(ops::Affine{}, std::forward<X>(x), std::forward<W>(w), std::forward<B>(b));
}
}  // namespace tapeless
