/// @file
/// @brief Activation layers: `ReLU`, `Sigmoid`, `Tanh`, `Softmax`. No parameters; the width is
/// the input's. Their adjoints are those of the ops they apply (ops/relu.hpp and friends).
#pragma once

#include "tapeless/layers/layer.hpp"
#include "tapeless/ops/relu.hpp"
#include "tapeless/ops/sigmoid.hpp"
#include "tapeless/ops/softmax.hpp"
#include "tapeless/ops/tanh.hpp"

#include <utility>

namespace tapeless {

struct ReLU : no_params {
  static constexpr int in = any_width;
  static constexpr int out = any_width;
  template <class X, class P>
  static auto apply(X&& x, const P&) {
    return relu(std::forward<X>(x));
  }
};

struct Sigmoid : no_params {
  static constexpr int in = any_width;
  static constexpr int out = any_width;
  template <class X, class P>
  static auto apply(X&& x, const P&) {
    return sigmoid(std::forward<X>(x));
  }
};

struct Tanh : no_params {
  static constexpr int in = any_width;
  static constexpr int out = any_width;
  template <class X, class P>
  static auto apply(X&& x, const P&) {
    return tanh(std::forward<X>(x));
  }
};

struct Softmax : no_params {
  static constexpr int in = any_width;
  static constexpr int out = any_width;
  template <class X, class P>
  static auto apply(X&& x, const P&) {
    return softmax(std::forward<X>(x));
  }
};

}  // namespace tapeless
