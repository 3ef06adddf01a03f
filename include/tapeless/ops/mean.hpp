/// @file
/// @brief `mean(a)`: the mean of all coefficients, a 1x1 result.
///
/// Forward: y = (1/n) sum_ij a_ij, n = rows * cols.   Adjoint: da += g / n.
#pragma once

#include "tapeless/core/node.hpp"

#include <utility>

namespace tapeless::ops {
struct Mean {
  static constexpr Dims shape(Dims) { return {1, 1}; }
  template <class Y, class A>
  void forward(Y& y, const A& a) const {
    y(0, 0) = a.mean();
  }
  template <class D, class G, class Y, class A>
  void backward(D& d, const G& g, const Y&, const A& a) const {
    using S = typename A::Scalar;
    d[arg<0>] += A::Constant(a.rows(), a.cols(), g(0, 0) / static_cast<S>(a.size()));
  }
};
}  // namespace tapeless::ops

namespace tapeless {
/// Mean of all coefficients.
template <Operand A>
requires ExprLike<A>
auto mean(A&& a) { return make_node(ops::Mean{}, std::forward<A>(a)); }
}  // namespace tapeless
