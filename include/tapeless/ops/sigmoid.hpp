/// @file
/// @brief `sigmoid(x)` = 1 / (1 + exp(-x)), elementwise.
///
/// Forward: y = 1 / (1 + exp(-x)).   Adjoint: dx += g .* y .* (1 - y).
#pragma once

#include "tapeless/ops/elementwise.hpp"

#include <utility>

namespace tapeless::fn {
/// The function of `sigmoid`, for ops::Elementwise.
struct Sigmoid {
  template <class X>
  auto value(const X& x) const {
    return x.logistic();
  }
  template <class X, class Y>
  auto derivative([[maybe_unused]] const X& x, [[maybe_unused]] const Y& y) const {
    return y * (1 - y);
  }
  friend bool operator==(Sigmoid, Sigmoid) = default;
};
}  // namespace tapeless::fn

namespace tapeless {
/// 1 / (1 + exp(-x)), elementwise.
template <Operand X>
requires ExprLike<X>
auto sigmoid(X&& x) { return elementwise(fn::Sigmoid{}, std::forward<X>(x)); }
}  // namespace tapeless
