/// @file
/// @brief `tanh(x)` = tanh(x), elementwise.
///
/// Forward: y = tanh(x).   Adjoint: dx += g .* (1 - y^2).
/// Vectorised in float (Eigen's rational approximation, within 6 ulp of libm) and in double
/// (detail/tanh.hpp, within 3 ulp); any other scalar type calls its own tanh per coefficient.
#pragma once

#include "tapeless/detail/tanh.hpp"
#include "tapeless/ops/elementwise.hpp"

#include <string_view>
#include <type_traits>
#include <utility>

namespace tapeless {
/// The function of `tanh` (its value and derivative, for ops::Elementwise); also a parameter-free
/// layer (layers/layer.hpp).
struct Tanh {
  static constexpr std::string_view name = "Tanh";  ///< as a layer, in a network's architecture
  /// A network of these is initialised Xavier by default (layers/layer.hpp, `Init`).
  static constexpr bool xavier_init = true;
  template <class X>
  auto value(const X& x) const {
    if constexpr (std::is_same_v<typename X::Scalar, double>)
      return x.unaryExpr(detail::tanh_op{});
    else
      return x.tanh();
  }
  template <class X, class Y>
  auto derivative([[maybe_unused]] const X& x, [[maybe_unused]] const Y& y) const {
    return 1 - y.square();
  }
  friend bool operator==(Tanh, Tanh) = default;
};

/// tanh(x), elementwise.
template <Operand X>
requires ExprLike<X>
auto tanh(X&& x) { return elementwise(Tanh{}, std::forward<X>(x)); }
}  // namespace tapeless
