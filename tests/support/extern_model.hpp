// A network's type, and its Trainer and Predictor compiled in one translation unit only
// (support/extern_model.cpp): the recipe of docs/tutorial.md, "One network, many translation
// units", as tests/network/extern_template.cpp uses it.
#pragma once

#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/predictor.hpp"
#include "tapeless/network/trainer.hpp"

namespace model {
using Net = tapeless::Network<tapeless::Sequential<tapeless::Linear<6, 24>, tapeless::ReLU, tapeless::Linear<24, 24>,
                                                   tapeless::Tanh, tapeless::Linear<24, 3>>,
                              double>;
using Loss = tapeless::SoftmaxCrossEntropy<>;
inline constexpr int batch = 8;
}  // namespace model

extern template class tapeless::Trainer<model::Net, model::Loss, model::batch>;
extern template class tapeless::Predictor<model::Net, 1>;
