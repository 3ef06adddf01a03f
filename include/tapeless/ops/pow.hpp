/// @file
/// @brief `pow(x, p)` = x^p, elementwise, for a fixed real exponent p.
///
/// Forward: y = x^p.   Adjoint: dx += g .* p x^(p-1).
#pragma once

#include "tapeless/ops/elementwise.hpp"

#include <utility>

namespace tapeless {
/// The function of `pow` (its value and derivative, for ops::Elementwise); holds the exponent.
template <class S>
struct Pow {
  S p;
  template <class X>
  auto value(const X& x) const {
    return x.pow(p);
  }
  template <class X, class Y>
  auto derivative(const X& x, const Y&) const {
    return p * x.pow(p - 1);
  }
  friend bool operator==(Pow, Pow) = default;
};

/// x^p, elementwise.
template <Operand X>
requires ExprLike<X>
auto pow(X&& x, scalar_t<as_expr_t<X&&>> p) {
  return elementwise(Pow<scalar_t<as_expr_t<X&&>>>{p}, std::forward<X>(x));
}
}  // namespace tapeless
