/// @file
/// @brief `relu(x)` = max(x, 0), elementwise.
///
/// Forward: y = max(x, 0).   Adjoint: dx += g .* [x > 0] (the derivative at 0 taken as 0).
#pragma once

#include "tapeless/detail/where_positive.hpp"
#include "tapeless/ops/elementwise.hpp"

#include <string_view>
#include <utility>

namespace tapeless {
/// The function of `relu` (its value and derivative, for ops::Elementwise); also a parameter-free
/// layer (layers/layer.hpp).
struct ReLU {
  static constexpr std::string_view name = "ReLU";  ///< as a layer, in a network's architecture
  /// A network of these is initialised He by default (layers/layer.hpp, `Init`).
  static constexpr bool xavier_init = false;
  template <class X>
  auto value(const X& x) const {
    return x.max(typename X::Scalar(0));
  }
  template <class X, class Y>
  auto derivative([[maybe_unused]] const X& x, [[maybe_unused]] const Y& y) const {
    using S = typename X::Scalar;
    return detail::where_positive(x, X::Constant(x.rows(), x.cols(), S(1)), X::Constant(x.rows(), x.cols(), S(0)));
  }
  friend bool operator==(ReLU, ReLU) = default;
};

/// max(x, 0), elementwise.
template <Operand X>
requires ExprLike<X>
auto relu(X&& x) { return elementwise(ReLU{}, std::forward<X>(x)); }
}  // namespace tapeless
