/// @file
/// @brief `transpose(a)`.
///
/// Forward: y = a^T.   Adjoint: da += g^T.
/// Only fixed shapes can be transposed: the batch (dynamic) dimension is always the row count,
/// and a transposed batch would put it in the columns. Ops that contract over the batch, such as
/// the weight gradient of `affine`, do the transposition inside their adjoint instead.
#pragma once

#include "tapeless/core/node.hpp"

#include <string_view>
#include <utility>

namespace tapeless::ops {
struct Transpose {
  static constexpr std::string_view name = "transpose";
  static constexpr Dims shape(Dims a) { return {a.cols, a.rows == dynamic ? 1 : a.rows}; }
  static constexpr bool valid(Dims a) { return a.rows != dynamic; }
  template <class Y, class A>
  void forward(Y& y, const A& a) const {
    y = a.transpose();
  }
  template <class D, class G, class Y, class A>
  void backward(D& d, const G& g, const Y&, const A&) const {
    d[arg<0>] += g.transpose();
  }
};
}  // namespace tapeless::ops

namespace tapeless {
/// The transpose of a fixed-shape expression.
template <Operand A>
requires ExprLike<A>
auto transpose(A&& a) { return make_node(ops::Transpose{}, std::forward<A>(a)); }
}  // namespace tapeless
