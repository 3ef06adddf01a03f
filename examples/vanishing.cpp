// Vanishing and exploding gradients (reference notes 001, exercise 7): the gradient reaching each
// activation, dL/da, of four 18-layer nets (16 hidden blocks of 32) on one batch, side by side.
// Every activation is tapped (tap_every_t, layers/tap.hpp: the notes' "hook on every ReLU",
// decided at compile time) and its gradient norm read from the tap after the step:
// - Sigmoid blocks (Xavier): the gradient vanishes towards the input, sigma' <= 1/4 per layer;
// - ReLU blocks (He): healthy at this depth;
// - residual ReLU blocks x + block(x) (He): every block adds its output to x, the second moment
//   of x doubles per block and the gradients explode;
// - the same residual blocks with the branch scaled by 1/sqrt(16), x + block(x) / 4: healthy.
// Then 100 SGD steps each, and the diagnosis of the weight gradients (gradient_norms) again: the
// notes' healthy band is 1e-7 <= norm <= 100.
#include <cstdio>
#include <ratio>
#include <tapeless/layers/activation.hpp>
#include <tapeless/layers/linear.hpp>
#include <tapeless/layers/sequential.hpp>
#include <tapeless/layers/tap.hpp>
#include <tapeless/losses/softmax_cross_entropy.hpp>
#include <tapeless/network/network.hpp>
#include <tapeless/network/trainer.hpp>
#include <tapeless/optim/clip.hpp>
#include <tapeless/optim/sgd.hpp>
#include <vector>

using namespace tapeless;

template <class Act>
using Block = Sequential<Linear<32, 32>, Act>;
template <class First, class B>
using Deep = Sequential<Linear<16, 32>, First, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, Linear<32, 4>>;

struct Diagnosis {
  std::vector<double> activation_norms;  // |dL/da| at initialisation, first activation first (taps)
  const char* at_init;
  const char* trained;  // after 100 SGD steps
  int skipped = 0;      // non-finite steps (refused, weights unchanged)
};

template <class Net>
const char* verdict(const Net& net) {
  bool vanishing = false, exploding = false;
  for (const GradientNorm& g : gradient_norms(net)) {
    vanishing |= g.vanishing;
    exploding |= g.exploding || !(g.norm == g.norm);
  }
  return vanishing && exploding ? "vanishing and exploding"
         : vanishing            ? "vanishing"
         : exploding            ? "exploding"
                                : "healthy";
}

template <class Layers, class Activation>
Diagnosis diagnose(Init init) {
  using Net = tap_every_t<Activation, Network<Layers, double>>;
  Net net(7, init);
  Trainer<Net, SoftmaxCrossEntropy<>, 32> trainer(net);
  Rng rng(1);
  for (Index i = 0; i < 32; ++i) {
    for (Index j = 0; j < 16; ++j) trainer.inputs()(i, j) = rng.normal();
    trainer.targets()(i, 0) = static_cast<int>(rng.below(4));
  }
  trainer.compute();
  Diagnosis d{{}, verdict(net), "", 0};
  for (std::size_t k = 0; k < trainer.tap_count(); ++k)
    d.activation_norms.push_back(trainer.tap(k).summary().gradient_norm);
  Sgd sgd(net, {.lr = 0.01, .momentum = 0.9});
  for (int step = 0; step < 100; ++step) d.skipped += !trainer.step(sgd).ok();
  trainer.compute();
  d.trained = verdict(net);
  return d;
}

int main() {
  const Diagnosis nets[] = {
      diagnose<Deep<Sigmoid, Block<Sigmoid>>, Sigmoid>(Init::xavier),
      diagnose<Deep<ReLU, Block<ReLU>>, ReLU>(Init::he),
      diagnose<Deep<ReLU, Residual<Block<ReLU>>>, ReLU>(Init::he),
      diagnose<Deep<ReLU, Residual<Block<ReLU>, std::ratio<1, 4>>>, ReLU>(Init::he),
  };
  const char* names[] = {"sigmoid", "relu", "residual", "residual, s = 1/4"};
  std::printf("|dL/da| at initialisation, per activation (17 tapped activations, batch 32)\n");
  std::printf("%10s %12s %12s %12s %18s\n", "activation", names[0], names[1], names[2], names[3]);
  for (std::size_t k = 0; k < nets[0].activation_norms.size(); ++k)
    std::printf("%10zu %12.3e %12.3e %12.3e %18.3e\n", k, nets[0].activation_norms[k], nets[1].activation_norms[k],
                nets[2].activation_norms[k], nets[3].activation_norms[k]);
  for (std::size_t n = 0; n < 4; ++n) {
    std::printf("%s: %s at initialisation, %s after 100 steps", names[n], nets[n].at_init, nets[n].trained);
    if (nets[n].skipped) std::printf(" (%d non-finite steps refused)", nets[n].skipped);
    std::printf("\n");
  }
}
