// A width mismatch inside a residual block of a network compiled layer by layer: one diagnostic,
// and the layers after it (and the loss) add nothing (network/chain.hpp's invalid_boundary).
// expect: tapeless::Sequential: a layer's output width is not the next layer's input width
// expect: layer_width_mismatch<0, tapeless::Linear<4, 8>, 8, 2, tapeless::Linear<9, 4>, 9
#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/predictor.hpp"
#include "tapeless/network/trainer.hpp"
#include "tapeless/optim/sgd.hpp"

int main() {
  using namespace tapeless;
#ifndef TAPELESS_TWIN
  using Block = Sequential<Linear<4, 8>, ReLU, Linear<9, 4>>;
#else
  using Block = Sequential<Linear<4, 8>, ReLU, Linear<8, 4>>;
#endif
  using Net = Network<Sequential<Linear<3, 4>, Residual<Block>, Linear<4, 2>>>;
  Net net;
  Trainer<Net, SoftmaxCrossEntropy<>> trainer(net, 8);
  Predictor<Net> predictor(net);
  Sgd sgd(net);
  return trainer.step(sgd).ok() && predictor()(0, 0) > 0 ? 0 : 1;
}
