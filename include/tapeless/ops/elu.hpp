/// @file
/// @brief `elu(x)`: x where x > 0, a (e^x - 1) elsewhere, elementwise; a = 1 by default
/// (PyTorch's `nn.ELU()`), any positive `std::ratio` in the type: `ELU<std::ratio<1, 2>>`.
///
/// Forward: y = x if x > 0 else a expm1(x) (expm1: accurate near 0).
/// Adjoint: dx += g .* (1 if x > 0 else y + a), y + a = a e^x being the derivative from the cached
/// output.
#pragma once

#include "tapeless/detail/ratio.hpp"
#include "tapeless/detail/where_positive.hpp"
#include "tapeless/ops/elementwise.hpp"

#include <ratio>
#include <string>
#include <utility>

namespace tapeless {
/// The function of `elu` with scale Alpha (a std::ratio); also a parameter-free layer
/// (layers/layer.hpp): `Sequential<Linear<4, 8>, ELU<>, Linear<8, 1>>`.
template <class Alpha = std::ratio<1>>
struct ELU {
  static_assert(detail::ratio_value<Alpha> > 0,
                "tapeless::ELU<Alpha>: Alpha is a positive std::ratio, e.g. std::ratio<1>");
  static constexpr double alpha = detail::ratio_value<Alpha>;
  /// As a layer, in a network's architecture: "ELU(1)".
  /// A network of these is initialised He by default (layers/layer.hpp, `Init`).
  static constexpr bool xavier_init = false;
  static std::string describe() { return "ELU(" + detail::ratio_text<Alpha>() + ")"; }
  template <class X>
  auto value(const X& x) const {
    using S = typename X::Scalar;
    // select, one coefficient at a time: std::expm1's bits. detail::where_positive would evaluate
    // Eigen's packet expm1 instead, whose accuracy is not checked here.
    return (x > S(0)).select(x, x.expm1() * S(alpha));
  }
  template <class X, class Y>
  auto derivative([[maybe_unused]] const X& x, [[maybe_unused]] const Y& y) const {
    using S = typename X::Scalar;
    return detail::where_positive(x, X::Constant(x.rows(), x.cols(), S(1)), y + S(alpha));
  }
  friend bool operator==(ELU, ELU) = default;
};

/// x where x > 0, e^x - 1 elsewhere, elementwise (`elu<std::ratio<1, 2>>(x)`: (e^x - 1) / 2).
template <class Alpha = std::ratio<1>, Operand X>
requires ExprLike<X>
auto elu(X&& x) { return elementwise(ELU<Alpha>{}, std::forward<X>(x)); }
}  // namespace tapeless
