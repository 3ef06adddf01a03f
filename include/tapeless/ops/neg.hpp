/// @file
/// @brief `-a`, negation.
///
/// Forward: y = -a.   Adjoint: da += -g.
#pragma once

#include "tapeless/core/node.hpp"

#include <utility>

namespace tapeless::ops {
struct Neg {
  static constexpr Dims shape(Dims a) { return a; }
  template <class Y, class A>
  void forward(Y& y, const A& a) const {
    y = -a;
  }
  template <class D, class G, class Y, class A>
  void backward(D& d, const G& g, const Y&, const A&) const {
    d[arg<0>] += -g;
  }
};
}  // namespace tapeless::ops

namespace tapeless {
/// Negation.
template <Operand A>
requires ExprLike<A>
auto operator-(A&& a) { return make_node(ops::Neg{}, std::forward<A>(a)); }
}  // namespace tapeless
