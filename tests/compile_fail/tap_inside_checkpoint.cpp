// A Tap inside a Checkpoint, whose interior values are not kept: one diagnostic naming the
// checkpoint.
// expect: tapeless::Tap inside a Checkpoint: a checkpoint does not keep its block's interior values
// expect: tap_inside_checkpoint<tapeless::Checkpoint<tapeless::Sequential<tapeless::Linear<8, 8>, tapeless::Tap<tapeless::ReLU
#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/checkpoint.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/layers/tap.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/trainer.hpp"
#include "tapeless/optim/sgd.hpp"

using namespace tapeless;

int main() {
#ifndef TAPELESS_TWIN
  using Block = Checkpoint<Sequential<Linear<8, 8>, Tap<ReLU>>>;
#else
  using Block = Sequential<Linear<8, 8>, Tap<ReLU>>;
#endif
  using Net = Network<Sequential<Linear<4, 8>, ReLU, Block, Linear<8, 3>>>;
  Net net;
  Trainer<Net, SoftmaxCrossEntropy<>> trainer(net, 8);
  Sgd sgd(net);
  return trainer.step(sgd).ok() ? 0 : 1;
}
