// Regression y = x1 + x2 with a 2-64-1 ReLU net and MSE (reference notes 002), full batch, SGD.
#include <cstdio>
#include <tapeless/layers/activation.hpp>
#include <tapeless/layers/linear.hpp>
#include <tapeless/layers/sequential.hpp>
#include <tapeless/losses/mse.hpp>
#include <tapeless/losses/softmax_cross_entropy.hpp>
#include <tapeless/network/network.hpp>
#include <tapeless/network/trainer.hpp>
#include <tapeless/optim/sgd.hpp>

int main() {
  using namespace tapeless;
  using Net = Network<Sequential<Linear<2, 64>, ReLU, Linear<64, 1>>, double>;
  Net net(42);
  Trainer<Net, MSE, 100> trainer(net);
  Rng rng(42);
  for (Index i = 0; i < 100; ++i) {
    trainer.inputs()(i, 0) = rng.normal();
    trainer.inputs()(i, 1) = rng.normal();
    trainer.targets()(i, 0) = trainer.inputs()(i, 0) + trainer.inputs()(i, 1);
  }
  Sgd sgd(net, {.lr = 0.01});
  double loss = 0;
  for (int epoch = 0; epoch < 1000; ++epoch) {
    loss = trainer.step(sgd).loss;
    if (epoch % 200 == 0) std::printf("epoch %4d: loss %.6f\n", epoch, loss);
  }
  std::printf("final loss %.6f\n", loss);
  return loss < 0.01 ? 0 : 1;
}
