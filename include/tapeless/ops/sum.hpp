/// @file
/// @brief `sum(a)`: the sum of all coefficients, a 1x1 result.
///
/// Forward: y = sum_ij a_ij.   Adjoint: da += g (the 1x1 g broadcast to a's shape).
#pragma once

#include "tapeless/core/node.hpp"

#include <utility>

namespace tapeless::ops {
struct Sum {
  static constexpr Dims shape(Dims) { return {1, 1}; }
  template <class Y, class A>
  void forward(Y& y, const A& a) const {
    y(0, 0) = a.sum();
  }
  template <class D, class G, class Y, class A>
  void backward(D& d, const G& g, const Y&, const A& a) const {
    d[arg<0>] += A::Constant(a.rows(), a.cols(), g(0, 0));
  }
};
}  // namespace tapeless::ops

namespace tapeless {
/// Sum of all coefficients.
template <Operand A>
requires ExprLike<A>
auto sum(A&& a) { return make_node(ops::Sum{}, std::forward<A>(a)); }
}  // namespace tapeless
