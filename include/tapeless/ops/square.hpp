/// @file
/// @brief `square(x)` = x^2, elementwise.
///
/// Forward: y = x^2.   Adjoint: dx += 2 g .* x.
#pragma once

#include "tapeless/ops/elementwise.hpp"

#include <string_view>
#include <utility>

namespace tapeless {
/// The function of `square` (its value and derivative, for ops::Elementwise); also a parameter-free
/// layer (layers/layer.hpp).
struct Square {
  static constexpr std::string_view name = "Square";  ///< as a layer, in a network's architecture
  template <class X>
  auto value(const X& x) const {
    return x.square();
  }
  template <class X, class Y>
  auto derivative([[maybe_unused]] const X& x, [[maybe_unused]] const Y& y) const {
    return 2 * x;
  }
  friend bool operator==(Square, Square) = default;
};

/// x^2, elementwise.
template <Operand X>
requires ExprLike<X>
auto square(X&& x) { return elementwise(Square{}, std::forward<X>(x)); }
}  // namespace tapeless
