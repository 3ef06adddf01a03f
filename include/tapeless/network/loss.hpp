/// @file
/// @brief Losses as network-level types: what the targets are, and the loss expression.
#pragma once

#include "tapeless/core/leaf.hpp"
#include "tapeless/core/tensor.hpp"
#include "tapeless/losses/mse.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"

#include <utility>

namespace tapeless {

/// Softmax + cross-entropy. `ops::Targets::index` (default): targets are class indices
/// (batch x 1, int); `ops::Targets::one_hot`: rows of probabilities (batch x classes).
template <ops::Targets T = ops::Targets::index>
struct SoftmaxCrossEntropy {
  template <class S, int Batch, int Classes>
  using target_type = std::conditional_t<T == ops::Targets::index, Tensor<int, Batch, 1>, Tensor<S, Batch, Classes>>;
  template <class Z, class Targets>
  static auto apply(Z&& logits, const Targets& t) {
    return softmax_cross_entropy(std::forward<Z>(logits), input(t));
  }
};

/// Mean squared error against targets of the output's shape.
struct MSE {
  template <class S, int Batch, int Out>
  using target_type = Tensor<S, Batch, Out>;
  template <class P, class Targets>
  static auto apply(P&& prediction, const Targets& t) {
    return mse(std::forward<P>(prediction), input(t));
  }
};

}  // namespace tapeless
