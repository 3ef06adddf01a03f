/// @file
/// @brief `Linear<In, Out>`: y = x W + b, W is In x Out, b is 1 x Out (the fused `affine` op).
///
/// Parameters: "weight" (In x Out: the reference notes' x W layout; PyTorch stores its transpose)
/// and "bias" (1 x Out). Adjoint (from the engine): dx = g W^T, dW = x^T g, db = column sums of g.
#pragma once

#include "tapeless/layers/layer.hpp"
#include "tapeless/ops/affine.hpp"

#include <cmath>
#include <string>
#include <tuple>
#include <utility>

namespace tapeless {

template <int In, int Out>
struct Linear {
  static_assert(In > 0 && Out > 0, "tapeless::Linear<In, Out>: both widths must be positive");
  static constexpr int in = In;
  static constexpr int out = Out;
  static constexpr Index parameter_size = Index{In} * Out + Out;

  template <class S>
  struct params {
    using scalar = S;
    TensorRef<S, In, Out> weight;
    TensorRef<S, 1, Out> bias;
    params(S*& value, S*& gradient)
        : weight(detail::next_ref<S, In, Out>::take(value, gradient)),
          bias(detail::next_ref<S, 1, Out>::take(value, gradient)) {}
    auto refs() { return std::tie(weight, bias); }
  };

  template <class X, class P>
  static auto apply(X&& x, const P& p) {
    return affine(std::forward<X>(x), p.weight, p.bias);
  }

  static std::string describe() { return "Linear(" + std::to_string(In) + ", " + std::to_string(Out) + ")"; }

  template <class P, class F>
  static void visit(P& p, const std::string& prefix, F&& f) {
    f(prefix + "weight", p.weight, ParameterRole::weight);
    f(prefix + "bias", p.bias, ParameterRole::bias);
  }

  template <class P>
  static void init(P& p, Init how, Rng& rng) {
    auto& w = p.weight.value();
    const double he = std::sqrt(2.0 / In);
    const double xavier = std::sqrt(6.0 / (In + Out));
    for (Index j = 0; j < w.cols(); ++j)
      for (Index i = 0; i < w.rows(); ++i)
        w(i, j) = static_cast<typename P::scalar>(how == Init::he ? he * rng.normal() : rng.uniform(-xavier, xavier));
    p.bias.value().setZero();
  }
};

namespace detail {
template <int In, int Out>
inline constexpr bool outer_gradient_layer<Linear<In, Out>> = true;
}  // namespace detail

}  // namespace tapeless
