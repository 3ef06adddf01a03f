// XOR with a 2-4-1 Sigmoid net and MSE: the classic problem a single layer cannot solve.
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
  using Net = Network<Sequential<Linear<2, 4>, Sigmoid, Linear<4, 1>, Sigmoid>, double>;
  Net net(3, Init::xavier);
  Trainer<Net, MSE, 4> trainer(net);
  trainer.inputs() = (Eigen::Matrix<double, 4, 2>() << 0, 0, 0, 1, 1, 0, 1, 1).finished();
  trainer.targets() = Eigen::Vector4d(0, 1, 1, 0);
  Sgd sgd(net, {.lr = 2.0, .momentum = 0.9});
  for (int step = 0; step < 2000; ++step) trainer.step(sgd);
  const auto& y = trainer.infer();
  bool right = true;
  for (Index i = 0; i < 4; ++i) {
    std::printf("%g xor %g -> %.3f\n", trainer.inputs()(i, 0), trainer.inputs()(i, 1), y(i, 0));
    right = right && (y(i, 0) > 0.5) == (trainer.targets()(i, 0) > 0.5);
  }
  std::printf("%s\n", right ? "solved" : "not solved");
  return right ? 0 : 1;
}
