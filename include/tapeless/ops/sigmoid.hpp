/// @file
/// @brief `sigmoid(x)` = 1 / (1 + exp(-x)), elementwise.
///
/// Forward: y = 1 / (1 + exp(-x)).   Adjoint: dx += g .* y .* (1 - y).
/// Vectorised in float and double (detail/sigmoid.hpp, the stable form, within a few ulp); any
/// other scalar type uses Eigen's logistic per coefficient.
#pragma once

#include "tapeless/detail/sigmoid.hpp"
#include "tapeless/ops/elementwise.hpp"

#include <string_view>
#include <type_traits>
#include <utility>

namespace tapeless {
/// The function of `sigmoid` (its value and derivative, for ops::Elementwise); also a parameter-free
/// layer (layers/layer.hpp).
struct Sigmoid {
  static constexpr std::string_view name = "Sigmoid";  ///< as a layer, in a network's architecture
  /// A network of these is initialised Xavier by default (layers/layer.hpp, `Init`).
  static constexpr bool xavier_init = true;
  template <class X>
  auto value(const X& x) const {
    using S = typename X::Scalar;
    if constexpr (std::is_same_v<S, float> || std::is_same_v<S, double>)
      return x.unaryExpr(detail::sigmoid_op<S>{});
    else
      return x.logistic();
  }
  template <class X, class Y>
  auto derivative([[maybe_unused]] const X& x, [[maybe_unused]] const Y& y) const {
    return y * (1 - y);
  }
  friend bool operator==(Sigmoid, Sigmoid) = default;
};

/// 1 / (1 + exp(-x)), elementwise.
template <Operand X>
requires ExprLike<X>
auto sigmoid(X&& x) { return elementwise(Sigmoid{}, std::forward<X>(x)); }
}  // namespace tapeless
