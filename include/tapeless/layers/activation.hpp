/// @file
/// @brief The activation functions, as layers: `ReLU`, `LeakyReLU<>`, `ELU<>`, `GELU`, `SiLU`,
/// `Sigmoid`, `Tanh`, `Softmax` (and any elementwise function or one-operand op). No parameters;
/// the width is the input's.
///
/// There is no separate activation layer type: the function is the layer (`layer_t`,
/// layers/layer.hpp), so `Sequential<Linear<4, 8>, ReLU, Linear<8, 1>>` applies `relu` through
/// the same `ReLU` that `relu(x)`'s node holds. Their adjoints are those of their ops.
#pragma once

#include "tapeless/layers/layer.hpp"
#include "tapeless/ops/elu.hpp"
#include "tapeless/ops/gelu.hpp"
#include "tapeless/ops/leaky_relu.hpp"
#include "tapeless/ops/relu.hpp"
#include "tapeless/ops/sigmoid.hpp"
#include "tapeless/ops/silu.hpp"
#include "tapeless/ops/softmax.hpp"
#include "tapeless/ops/tanh.hpp"
