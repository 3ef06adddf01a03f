/// @file
/// @brief `Elementwise<F>`: one generic node for every elementwise function.
///
/// A function is a small struct with two members, over Eigen array expressions:
/// - `value(x)`: y = f(x);
/// - `derivative(x, y)`: f'(x), given the cached output y too (so sigmoid' = y(1-y) costs no exp).
/// Forward: y = f(x).   Adjoint: dx += g .* f'(x, y).
/// Built-ins (exp, log, square, pow, tanh, sigmoid, relu) are such structs; so can a user's be:
///
///     struct RoundSte {  // straight-through estimator: round forward, identity backward
///       auto value(const auto& x) const { return x.round(); }
///       auto derivative(const auto& x, const auto&) const { return x * 0 + 1; }
///     };
///     auto q = tapeless::elementwise(RoundSte{}, w);
#pragma once

#include "tapeless/core/node.hpp"

#include <utility>

namespace tapeless::ops {

template <class F>
struct Elementwise {
  [[no_unique_address]] F f;
  static constexpr Dims shape(Dims x) { return x; }
  template <class Y, class X>
  void forward(Y& y, const X& x) const {
    y.array() = f.value(x.array());
  }
  template <class D, class G, class Y, class X>
  void backward(D& d, const G& g, const Y& y, const X& x) const {
    d[arg<0>] += (g.array() * f.derivative(x.array(), y.array())).matrix();
  }
  friend bool operator==(const Elementwise&, const Elementwise&) = default;
};

}  // namespace tapeless::ops

namespace tapeless {
/// Applies the elementwise function `f` (see ops::Elementwise) to `x`.
template <class F, Operand X>
auto elementwise(F f, X&& x) {
  return make_node(ops::Elementwise<F>{f}, std::forward<X>(x));
}
}  // namespace tapeless
