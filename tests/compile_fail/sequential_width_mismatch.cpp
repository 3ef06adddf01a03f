// Adjacent layers whose widths differ: one diagnostic naming both layers and both widths.
// expect: tapeless::Sequential: a layer's output width is not the next layer's input width
// expect: layer_width_mismatch<0, tapeless::Linear<4, 16>, 16, 2, tapeless::Linear<32, 3>, 32
#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/mse.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/trainer.hpp"
#include "tapeless/optim/sgd.hpp"

int main() {
#ifndef TAPELESS_TWIN
  using Net = tapeless::Network<tapeless::Sequential<tapeless::Linear<4, 16>, tapeless::ReLU, tapeless::Linear<32, 3>>>;
#else
  using Net = tapeless::Network<tapeless::Sequential<tapeless::Linear<4, 16>, tapeless::ReLU, tapeless::Linear<16, 3>>>;
#endif
  Net net;
  tapeless::Trainer<Net, tapeless::SoftmaxCrossEntropy<>> trainer(net, 8);
  tapeless::Sgd sgd(net);
  return trainer.step(sgd).ok() ? 0 : 1;
}
