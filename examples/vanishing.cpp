// Vanishing gradients (reference notes 001): per-layer gradient norms of a deep Sigmoid net,
// next to the same depth with ReLU and with residual ReLU blocks.
#include <cstdio>
#include <tapeless/layers/activation.hpp>
#include <tapeless/layers/linear.hpp>
#include <tapeless/layers/sequential.hpp>
#include <tapeless/losses/mse.hpp>
#include <tapeless/losses/softmax_cross_entropy.hpp>
#include <tapeless/network/network.hpp>
#include <tapeless/network/trainer.hpp>
#include <tapeless/optim/clip.hpp>

using namespace tapeless;

template <class Act>
using Block = Sequential<Linear<32, 32>, Act>;
template <class Act>
using Deep = Sequential<Linear<16, 32>, Act, Block<Act>, Block<Act>, Block<Act>, Block<Act>, Block<Act>, Block<Act>,
                        Block<Act>, Block<Act>, Linear<32, 4>>;
using DeepResidual = Sequential<Linear<16, 32>, ReLU, Residual<Block<ReLU>>, Residual<Block<ReLU>>,
                                Residual<Block<ReLU>>, Residual<Block<ReLU>>, Residual<Block<ReLU>>,
                                Residual<Block<ReLU>>, Residual<Block<ReLU>>, Residual<Block<ReLU>>, Linear<32, 4>>;

template <class Layers>
double report(const char* title, Init init) {
  using Net = Network<Layers, double>;
  Net net(7, init);
  Trainer<Net, SoftmaxCrossEntropy<>, 64> trainer(net);
  Rng rng(1);
  for (Index i = 0; i < 64; ++i) {
    for (Index j = 0; j < 16; ++j) trainer.inputs()(i, j) = rng.normal();
    trainer.targets()(i, 0) = static_cast<int>(rng.below(4));
  }
  trainer.compute();
  std::printf("%s\n", title);
  double first = 0;
  for (const GradientNorm& g : gradient_norms(net)) {
    if (g.name.find("weight") == std::string::npos) continue;
    if (first == 0) first = g.norm;
    std::printf("  %-18s %.3e%s\n", g.name.c_str(), g.norm,
                g.vanishing   ? "  vanishing"
                : g.exploding ? "  exploding"
                              : "");
  }
  return first;
}

int main() {
  const double sigmoid = report<Deep<Sigmoid>>("10 Linear+Sigmoid layers (Xavier):", Init::xavier);
  const double relu = report<Deep<ReLU>>("10 Linear+ReLU layers (He):", Init::he);
  const double residual = report<DeepResidual>("10 layers, ReLU with residual blocks (He):", Init::he);
  std::printf("first-layer weight gradient: sigmoid %.2e, relu %.2e, residual %.2e\n", sigmoid, relu, residual);
  std::printf("%s\n",
              sigmoid < relu / 100 ? "the sigmoid net's first layer gets >100x less gradient" : "no vanishing seen");
}
