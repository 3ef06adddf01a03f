// Gradient checkpointing (reference note 002) as a policy in the network's type: a deep residual
// MLP (16 blocks of 64, batch 64) trained three ways from the same weights and data, without
// checkpoints, with every block checkpointed, and with four checkpointed segments of four blocks.
// Each Trainer's type says how many bytes of activations a step keeps
// (Trainer::activation_bytes, constexpr); the three train to the same bits, and the checkpointed
// ones pay one more forward pass per checkpointed block.
#include <chrono>
#include <cstdio>
#include <ratio>
#include <tapeless/layers/activation.hpp>
#include <tapeless/layers/checkpoint.hpp>
#include <tapeless/layers/linear.hpp>
#include <tapeless/layers/sequential.hpp>
#include <tapeless/losses/softmax_cross_entropy.hpp>
#include <tapeless/network/network.hpp>
#include <tapeless/network/trainer.hpp>
#include <tapeless/optim/sgd.hpp>

using namespace tapeless;

using Block = Residual<Sequential<Linear<64, 64>, ReLU>, std::ratio<1, 4>>;
using Segment = Sequential<Block, Block, Block, Block>;
template <class B>
using Deep = Sequential<Linear<16, 64>, ReLU, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, Linear<64, 4>>;
template <class G>
using Segmented = Sequential<Linear<16, 64>, ReLU, G, G, G, G, Linear<64, 4>>;

constexpr int batch = 64;

struct Outcome {
  double loss = 0;
  double ms_per_step = 0;
  Eigen::VectorXf weights;
};

template <class Layers>
Outcome train() {
  using Net = Network<Layers>;
  Net net(11);
  Trainer<Net, SoftmaxCrossEntropy<>, batch> trainer(net);
  Sgd sgd(net, {.lr = 0.05, .momentum = 0.9});
  Rng rng(5);
  Outcome o;
  const auto start = std::chrono::steady_clock::now();
  for (int step = 0; step < 50; ++step) {
    for (Index i = 0; i < batch; ++i) {  // a toy task: the class is the sign pattern of two features
      for (Index j = 0; j < 16; ++j) trainer.inputs()(i, j) = static_cast<float>(rng.normal());
      trainer.targets()(i, 0) = (trainer.inputs()(i, 0) > 0) + 2 * (trainer.inputs()(i, 1) > 0);
    }
    o.loss = trainer.step(sgd).loss;
  }
  o.ms_per_step = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / 50;
  o.weights = net.values();
  return o;
}

int main() {
  constexpr std::size_t plain = Trainer<Network<Deep<Block>>, SoftmaxCrossEntropy<>, batch>::activation_bytes();
  constexpr std::size_t per_block =
      Trainer<Network<Deep<Checkpoint<Block>>>, SoftmaxCrossEntropy<>, batch>::activation_bytes();
  constexpr std::size_t per_segment =
      Trainer<Network<Segmented<Checkpoint<Segment>>>, SoftmaxCrossEntropy<>, batch>::activation_bytes();
  static_assert(per_block < plain && per_segment < plain);
  const Outcome a = train<Deep<Block>>();
  const Outcome b = train<Deep<Checkpoint<Block>>>();
  const Outcome c = train<Segmented<Checkpoint<Segment>>>();
  std::printf("%-34s %12s %10s %12s\n", "16 residual blocks of 64, batch 64", "activations", "ms/step", "loss");
  std::printf("%-34s %10zu B %10.3f %12.6f\n", "no checkpoint", plain, a.ms_per_step, a.loss);
  std::printf("%-34s %10zu B %10.3f %12.6f\n", "every block checkpointed", per_block, b.ms_per_step, b.loss);
  std::printf("%-34s %10zu B %10.3f %12.6f\n", "four segments of four checkpointed", per_segment, c.ms_per_step,
              c.loss);
  const bool same = a.weights == b.weights && a.weights == c.weights && a.loss == b.loss && a.loss == c.loss;
  std::printf("after 50 steps the three networks are %s\n", same ? "identical to the bit" : "DIFFERENT");
  std::printf("checkpointing every block keeps %.0f%% of the activations\n", 100.0 * double(per_block) / double(plain));
  return same ? 0 : 1;
}
