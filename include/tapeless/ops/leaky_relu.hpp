/// @file
/// @brief `leaky_relu(x)`: x where x > 0, s x elsewhere, elementwise; s = 1/100 by default
/// (PyTorch's `nn.LeakyReLU()`), any `std::ratio` in the type: `LeakyReLU<std::ratio<1, 5>>`.
///
/// Forward: y = x if x > 0 else s x.   Adjoint: dx += g .* (1 if x > 0 else s) (s at 0, as
/// torch.nn.functional.leaky_relu's backward gives).
#pragma once

#include "tapeless/detail/ratio.hpp"
#include "tapeless/detail/where_positive.hpp"
#include "tapeless/ops/elementwise.hpp"

#include <ratio>
#include <string>
#include <utility>

namespace tapeless {
/// The function of `leaky_relu` with slope Slope (a std::ratio) for x <= 0; also a parameter-free
/// layer (layers/layer.hpp): `Sequential<Linear<4, 8>, LeakyReLU<>, Linear<8, 1>>`.
template <class Slope = std::ratio<1, 100>>
struct LeakyReLU {
  static_assert(detail::is_ratio_v<Slope>,
                "tapeless::LeakyReLU<Slope>: Slope is a std::ratio, e.g. std::ratio<1, 100>");
  static constexpr double slope = detail::ratio_value<Slope>;
  /// As a layer, in a network's architecture: "LeakyReLU(1/100)".
  /// A network of these is initialised He by default (layers/layer.hpp, `Init`).
  static constexpr bool xavier_init = false;
  static std::string describe() { return "LeakyReLU(" + detail::ratio_text<Slope>() + ")"; }
  template <class X>
  auto value(const X& x) const {
    using S = typename X::Scalar;
    return detail::where_positive(x, x, x * S(slope));
  }
  template <class X, class Y>
  auto derivative([[maybe_unused]] const X& x, [[maybe_unused]] const Y& y) const {
    using S = typename X::Scalar;
    return detail::where_positive(x, X::Constant(x.rows(), x.cols(), S(1)), X::Constant(x.rows(), x.cols(), S(slope)));
  }
  friend bool operator==(LeakyReLU, LeakyReLU) = default;
};

/// x where x > 0, x / 100 elsewhere, elementwise (`leaky_relu<std::ratio<1, 5>>(x)`: x / 5).
template <class Slope = std::ratio<1, 100>, Operand X>
requires ExprLike<X>
auto leaky_relu(X&& x) { return elementwise(LeakyReLU<Slope>{}, std::forward<X>(x)); }
}  // namespace tapeless
