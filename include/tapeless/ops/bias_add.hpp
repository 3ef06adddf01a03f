/// @file
/// @brief `bias_add(x, b)`: adds the row vector b (1 x n) to every row of x (m x n).
///
/// Forward: y_ij = x_ij + b_j.   Adjoint: dx += g,  db += sum over rows of g (1 x n).
#pragma once

#include "tapeless/core/node.hpp"
#include "tapeless/detail/broadcast.hpp"

#include <string_view>
#include <utility>

namespace tapeless::ops {
struct BiasAdd {
  static constexpr std::string_view name = "bias_add";
  static constexpr Dims shape(Dims x, Dims) { return x; }
  static constexpr bool valid(Dims x, Dims b) { return dims_fit(b.rows, 1) && dims_fit(x.cols, b.cols); }
  template <class Y, class X, class B>
  void forward(Y& y, const X& x, const B& b) const {
    y = x;
    detail::add_to_rows(y, b);
  }
  template <class D, class G, class Y, class X, class B>
  void backward(D& d, const G& g, const Y&, const X&, const B&) const {
    d[arg<0>] += g;
    detail::with_column_sums(g, [&](const auto& sums) { d[arg<1>] += sums; });
  }
};
}  // namespace tapeless::ops

namespace tapeless {
/// Adds the row vector `b` (1 x n) to each row of `x` (m x n).
template <Operand X, Operand B>
requires ExprLike<X> && ExprLike<B>
auto bias_add(X&& x, B&& b) { return make_node(ops::BiasAdd{}, std::forward<X>(x), std::forward<B>(b)); }
}  // namespace tapeless
