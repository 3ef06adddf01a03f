/// @file
/// @brief `silu(x)` = x sigmoid(x) (also called swish), elementwise: PyTorch's `nn.SiLU()`.
///
/// Forward: y = x s, s = sigmoid(x).   Adjoint: dx += g .* s (1 + x (1 - s)).
#pragma once

#include "tapeless/ops/elementwise.hpp"

#include <string_view>
#include <utility>

namespace tapeless {
/// The function of `silu` (its value and derivative, for ops::Elementwise); also a parameter-free
/// layer (layers/layer.hpp).
struct SiLU {
  static constexpr std::string_view name = "SiLU";  ///< as a layer, in a network's architecture
  /// A network of these is initialised He by default (layers/layer.hpp, `Init`).
  static constexpr bool xavier_init = false;
  template <class X>
  auto value(const X& x) const {
    return x * x.logistic();
  }
  template <class X, class Y>
  auto derivative([[maybe_unused]] const X& x, [[maybe_unused]] const Y& y) const {
    using S = typename X::Scalar;
    const auto s = x.logistic();
    return s * (S(1) + x * (S(1) - s));
  }
  friend bool operator==(SiLU, SiLU) = default;
};

/// x sigmoid(x), elementwise.
template <Operand X>
requires ExprLike<X>
auto silu(X&& x) { return elementwise(SiLU{}, std::forward<X>(x)); }
}  // namespace tapeless
