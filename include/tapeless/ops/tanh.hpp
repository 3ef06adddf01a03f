/// @file
/// @brief `tanh(x)` = tanh(x), elementwise.
///
/// Forward: y = tanh(x).   Adjoint: dx += g .* (1 - y^2).
#pragma once

#include "tapeless/ops/elementwise.hpp"

#include <utility>

namespace tapeless::fn {
/// The function of `tanh`, for ops::Elementwise.
struct Tanh {
  template <class X>
  auto value(const X& x) const {
    return x.tanh();
  }
  template <class X, class Y>
  auto derivative([[maybe_unused]] const X& x, [[maybe_unused]] const Y& y) const {
    return 1 - y.square();
  }
  friend bool operator==(Tanh, Tanh) = default;
};
}  // namespace tapeless::fn

namespace tapeless {
/// tanh(x), elementwise.
template <Operand X>
requires ExprLike<X>
auto tanh(X&& x) { return elementwise(fn::Tanh{}, std::forward<X>(x)); }
}  // namespace tapeless
