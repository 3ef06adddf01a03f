/// @file
/// @brief `exp(x)` = exp(x), elementwise.
///
/// Forward: y = exp(x).   Adjoint: dx += g .* y.
#pragma once

#include "tapeless/ops/elementwise.hpp"

#include <string_view>
#include <utility>

namespace tapeless {
/// The function of `exp` (its value and derivative, for ops::Elementwise); also a parameter-free
/// layer (layers/layer.hpp).
struct Exp {
  static constexpr std::string_view name = "Exp";  ///< as a layer, in a network's architecture
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

/// exp(x), elementwise.
template <Operand X>
requires ExprLike<X>
auto exp(X&& x) { return elementwise(Exp{}, std::forward<X>(x)); }
}  // namespace tapeless
