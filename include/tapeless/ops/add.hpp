/// @file
/// @brief `a + b`, elementwise; a 1x1 operand is broadcast.
///
/// Forward: y = a + b.   Adjoint: da += g, db += g (summed to a number for a broadcast operand).
#pragma once

#include "tapeless/core/node.hpp"
#include "tapeless/detail/broadcast.hpp"

#include <string_view>
#include <utility>

namespace tapeless::ops {

template <Broadcast B>
struct Add : elementwise_shape<B> {
  static constexpr std::string_view name = "operator+";
  template <class Y, class L, class R>
  void forward(Y& y, const L& a, const R& b) const {
    y.array() = detail::broadcast<B == Broadcast::lhs>(a, y) + detail::broadcast<B == Broadcast::rhs>(b, y);
  }
  template <class D, class G, class Y, class L, class R>
  void backward(D& d, const G& g, const Y&, const L&, const R&) const {
    d[arg<0>] += detail::unbroadcast<B == Broadcast::lhs>(g.array());
    d[arg<1>] += detail::unbroadcast<B == Broadcast::rhs>(g.array());
  }
};

}  // namespace tapeless::ops

namespace tapeless {
/// Elementwise sum of two expressions (or an expression and a number).
template <Operand L, Operand R>
requires(ExprLike<L> || ExprLike<R>) auto operator+(L&& a, R&& b) {
  return detail::make_elementwise<ops::Add>(std::forward<L>(a), std::forward<R>(b));
}
}  // namespace tapeless
