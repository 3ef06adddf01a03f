/// @file
/// @brief `a / b`, elementwise quotient; a 1x1 operand is broadcast.
///
/// Forward: y = a ./ b.   Adjoint: da += g ./ b, db += -g .* y ./ b (summed for a broadcast
/// operand), reusing the cached y = a / b.
#pragma once

#include "tapeless/core/node.hpp"
#include "tapeless/detail/broadcast.hpp"

#include <string_view>
#include <utility>

namespace tapeless::ops {

template <Broadcast B>
struct Div : elementwise_shape<B> {
  static constexpr std::string_view name = "operator/";
  template <class Y, class L, class R>
  void forward(Y& y, const L& a, const R& b) const {
    y.array() = detail::broadcast<B == Broadcast::lhs>(a, y) / detail::broadcast<B == Broadcast::rhs>(b, y);
  }
  template <class D, class G, class Y, class L, class R>
  void backward(D& d, const G& g, const Y& y, const L&, const R& b) const {
    d[arg<0>] += detail::unbroadcast<B == Broadcast::lhs>(g.array() / detail::broadcast<B == Broadcast::rhs>(b, g));
    d[arg<1>] +=
        detail::unbroadcast<B == Broadcast::rhs>(-g.array() * y.array() / detail::broadcast<B == Broadcast::rhs>(b, g));
  }
};

}  // namespace tapeless::ops

namespace tapeless {
/// Elementwise quotient of two expressions (or an expression and a number).
template <Operand L, Operand R>
requires(ExprLike<L> || ExprLike<R>) auto operator/(L&& a, R&& b) {
  return detail::make_elementwise<ops::Div>(std::forward<L>(a), std::forward<R>(b));
}
}  // namespace tapeless
