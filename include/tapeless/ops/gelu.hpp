/// @file
/// @brief `gelu(x)` = x Phi(x), Phi the standard normal distribution function, elementwise: the
/// exact GELU, PyTorch's `nn.GELU()` (approximate='none').
///
/// Forward: y = x (1 + erf(x / sqrt 2)) / 2.
/// Adjoint: dx += g .* (Phi(x) + x phi(x)), phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
/// erf is std::erf per coefficient (Eigen 3.4 vectorises it only in its unsupported module).
#pragma once

#include "tapeless/ops/elementwise.hpp"

#include <cmath>
#include <numbers>
#include <string_view>
#include <utility>

namespace tapeless {
/// The function of `gelu` (its value and derivative, for ops::Elementwise); also a parameter-free
/// layer (layers/layer.hpp).
struct GELU {
  static constexpr std::string_view name = "GELU";  ///< as a layer, in a network's architecture
  /// A network of these is initialised He by default (layers/layer.hpp, `Init`).
  static constexpr bool xavier_init = false;
  template <class X>
  auto value(const X& x) const {
    return x * cdf(x);
  }
  template <class X, class Y>
  auto derivative([[maybe_unused]] const X& x, [[maybe_unused]] const Y& y) const {
    using S = typename X::Scalar;
    const S inv_sqrt_2pi = S(1 / (std::numbers::sqrt2 * std::sqrt(std::numbers::pi)));
    return cdf(x) + x * (x.square() * S(-0.5)).exp() * inv_sqrt_2pi;
  }
  friend bool operator==(GELU, GELU) = default;

 private:
  template <class X>
  static auto cdf(const X& x) {  // Phi(x) = (1 + erf(x / sqrt 2)) / 2
    using S = typename X::Scalar;
    return x.unaryExpr([](S v) { return S(0.5) * (S(1) + std::erf(v * S(1 / std::numbers::sqrt2))); });
  }
};

/// x Phi(x), elementwise (the exact GELU).
template <Operand X>
requires ExprLike<X>
auto gelu(X&& x) { return elementwise(GELU{}, std::forward<X>(x)); }
}  // namespace tapeless
