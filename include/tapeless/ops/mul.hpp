/// @file
/// @brief `a * b`, elementwise (Hadamard) product; a 1x1 operand is broadcast. The matrix
/// product is `matmul(a, b)`, as `@` is in NumPy and PyTorch.
///
/// Forward: y = a .* b.   Adjoint: da += g .* b, db += g .* a (summed for a broadcast operand).
#pragma once

#include "tapeless/core/node.hpp"
#include "tapeless/detail/broadcast.hpp"

#include <string_view>
#include <utility>

namespace tapeless::ops {

template <Broadcast B>
struct Mul : elementwise_shape<B> {
  static constexpr std::string_view name = "operator* (elementwise; matmul() is the matrix product)";
  template <class Y, class L, class R>
  void forward(Y& y, const L& a, const R& b) const {
    y.array() = detail::broadcast<B == Broadcast::lhs>(a, y) * detail::broadcast<B == Broadcast::rhs>(b, y);
  }
  template <class D, class G, class Y, class L, class R>
  void backward(D& d, const G& g, const Y&, const L& a, const R& b) const {
    d[arg<0>] += detail::unbroadcast<B == Broadcast::lhs>(g.array() * detail::broadcast<B == Broadcast::rhs>(b, g));
    d[arg<1>] += detail::unbroadcast<B == Broadcast::rhs>(g.array() * detail::broadcast<B == Broadcast::lhs>(a, g));
  }
};

}  // namespace tapeless::ops

namespace tapeless {
/// Elementwise product of two expressions (or an expression and a number).
template <Operand L, Operand R>
requires(ExprLike<L> || ExprLike<R>) auto operator*(L&& a, R&& b) {
  return detail::make_elementwise<ops::Mul>(std::forward<L>(a), std::forward<R>(b));
}
}  // namespace tapeless
