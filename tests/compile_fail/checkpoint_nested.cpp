// A Checkpoint below the top level of a network, where it cannot take effect: one diagnostic
// naming the top-level layer that holds it.
// expect: tapeless::Checkpoint: a checkpoint takes effect only as a top-level layer
// expect: checkpoint_not_at_top_level<tapeless::Residual<tapeless::Sequential<tapeless::Checkpoint<
#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/checkpoint.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/trainer.hpp"
#include "tapeless/optim/sgd.hpp"

using namespace tapeless;

int main() {
#ifndef TAPELESS_TWIN
  using Block = Residual<Sequential<Checkpoint<Linear<8, 8>>, ReLU>>;
#else
  using Block = Checkpoint<Residual<Sequential<Linear<8, 8>, ReLU>>>;
#endif
  using Net = Network<Sequential<Linear<4, 8>, ReLU, Block, Linear<8, 3>>>;
  Net net;
  Trainer<Net, SoftmaxCrossEntropy<>> trainer(net, 8);
  Sgd sgd(net);
  return trainer.step(sgd).ok() ? 0 : 1;
}
