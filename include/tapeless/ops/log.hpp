/// @file
/// @brief `log(x)` = log(x), elementwise.
///
/// Forward: y = log(x).   Adjoint: dx += g ./ x.
#pragma once

#include "tapeless/ops/elementwise.hpp"

#include <string_view>
#include <utility>

namespace tapeless {
/// The function of `log` (its value and derivative, for ops::Elementwise); also a parameter-free
/// layer (layers/layer.hpp).
struct Log {
  static constexpr std::string_view name = "Log";  ///< as a layer, in a network's architecture
  template <class X>
  auto value(const X& x) const {
    return x.log();
  }
  template <class X, class Y>
  auto derivative([[maybe_unused]] const X& x, [[maybe_unused]] const Y& y) const {
    return x.inverse();
  }
  friend bool operator==(Log, Log) = default;
};

/// log(x), elementwise.
template <Operand X>
requires ExprLike<X>
auto log(X&& x) { return elementwise(Log{}, std::forward<X>(x)); }
}  // namespace tapeless
