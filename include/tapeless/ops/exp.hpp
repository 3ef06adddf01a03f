/// @file
/// @brief `exp(x)` = exp(x), elementwise.
///
/// Forward: y = exp(x).   Adjoint: dx += g .* y.
#pragma once

#include "tapeless/ops/elementwise.hpp"

#include <utility>

namespace tapeless::fn {
/// The function of `exp`, for ops::Elementwise.
struct Exp {
  template <class X>
  auto value(const X& x) const {
    return x.exp();
  }
  template <class X, class Y>
  auto derivative([[maybe_unused]] const X& x, [[maybe_unused]] const Y& y) const {
    return y;
  }
  friend bool operator==(Exp, Exp) = default;
};
}  // namespace tapeless::fn

namespace tapeless {
/// exp(x), elementwise.
template <Operand X>
requires ExprLike<X>
auto exp(X&& x) { return elementwise(fn::Exp{}, std::forward<X>(x)); }
}  // namespace tapeless
