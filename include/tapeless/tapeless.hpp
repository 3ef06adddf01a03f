/// @file
/// @brief The umbrella header: all of tapeless but io/. What each part needs:
/// - everything included here: Eigen 3.4 and Boost's headers (Hana), through `tapeless::tapeless`;
/// - io/idx.hpp (IDX files, gzip or plain): zlib;
/// - io/safetensors.hpp and io/checkpoint.hpp: nlohmann-json 3;
/// - io/file.hpp: nothing more.
/// Include io/ headers yourself and link `tapeless::io` (find_package(tapeless COMPONENTS io)),
/// which brings zlib and nlohmann-json. network/parallel_trainer.hpp (training on several threads)
/// is not included either: it brings <thread> and <barrier>, which a single-threaded program
/// should not pay for; include it yourself.
#pragma once

#include "tapeless/check/gradient_check.hpp"
#include "tapeless/core/error.hpp"
#include "tapeless/core/expression.hpp"
#include "tapeless/core/leaf.hpp"
#include "tapeless/core/node.hpp"
#include "tapeless/core/product.hpp"
#include "tapeless/core/shape.hpp"
#include "tapeless/core/shared.hpp"
#include "tapeless/core/storage.hpp"
#include "tapeless/core/tensor.hpp"
#include "tapeless/engine/plan.hpp"
#include "tapeless/engine/program.hpp"
#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/layer.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/mse.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/chain.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/predictor.hpp"
#include "tapeless/network/trainer.hpp"
#include "tapeless/ops/add.hpp"
#include "tapeless/ops/affine.hpp"
#include "tapeless/ops/bias_add.hpp"
#include "tapeless/ops/div.hpp"
#include "tapeless/ops/elementwise.hpp"
#include "tapeless/ops/elu.hpp"
#include "tapeless/ops/exp.hpp"
#include "tapeless/ops/gelu.hpp"
#include "tapeless/ops/leaky_relu.hpp"
#include "tapeless/ops/log.hpp"
#include "tapeless/ops/log_softmax.hpp"
#include "tapeless/ops/matmul.hpp"
#include "tapeless/ops/mean.hpp"
#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/neg.hpp"
#include "tapeless/ops/pow.hpp"
#include "tapeless/ops/relu.hpp"
#include "tapeless/ops/sigmoid.hpp"
#include "tapeless/ops/silu.hpp"
#include "tapeless/ops/softmax.hpp"
#include "tapeless/ops/square.hpp"
#include "tapeless/ops/sub.hpp"
#include "tapeless/ops/sum.hpp"
#include "tapeless/ops/tanh.hpp"
#include "tapeless/ops/transpose.hpp"
#include "tapeless/optim/adam.hpp"
#include "tapeless/optim/clip.hpp"
#include "tapeless/optim/lr_finder.hpp"
#include "tapeless/optim/schedule.hpp"
#include "tapeless/optim/sgd.hpp"
