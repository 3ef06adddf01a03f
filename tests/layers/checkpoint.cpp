// layers/checkpoint.hpp and the chain's checkpoint groups: a checkpointed network is the same
// network (types, names, weights), its steps are the plain network's to the bit (fixed and
// run-time batch, one thread and several, training and inference), and it keeps the activation
// bytes its type says, fewer than the plain network's.
#define BOOST_TEST_MODULE layers_checkpoint
#include "tapeless/layers/checkpoint.hpp"

#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/mse.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/parallel_trainer.hpp"
#include "tapeless/network/predictor.hpp"
#include "tapeless/network/trainer.hpp"
#include "tapeless/optim/adam.hpp"
#include "tapeless/optim/sgd.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <ratio>

using namespace tapeless;

namespace {
using Block = Residual<Sequential<Linear<8, 8>, ReLU>, std::ratio<1, 2>>;
using Squash = Sequential<Linear<8, 8>, Tanh>;
// Two checkpoint groups (Block three times, Squash once), a plain Block between them, a
// checkpointed first layer (its input is the batch: run as a plain layer) and a checkpointed
// last layer (the loss reads its kept output).
template <class S>
using Plain = Network<Sequential<Linear<4, 8>, ReLU, Block, Block, Block, Squash, Block, Linear<8, 3>>, S>;
template <class S>
using Checkpointed = Network<Sequential<Checkpoint<Linear<4, 8>>, ReLU, Checkpoint<Block>, Checkpoint<Block>, Block,
                                        Checkpoint<Squash>, Checkpoint<Block>, Checkpoint<Linear<8, 3>>>,
                             S>;

template <class Train>
void fill(Train& t, unsigned seed) {
  Rng rng(seed);
  for (Index i = 0; i < t.inputs().rows(); ++i) {
    for (Index j = 0; j < t.inputs().cols(); ++j)
      t.inputs()(i, j) = static_cast<typename Train::scalar_type>(rng.normal());
    t.targets()(i, 0) = static_cast<int>(i % 3);
  }
}

template <class A, class B>
bool same_bits(const A& a, const B& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && (a.array() == b.array()).all();
}

/// Steps a plain and a checkpointed trainer side by side: the same losses, gradients, outputs and
/// weights, to the bit.
template <class TP, class TC, class NP, class NC, class OP, class OC>
void expect_same_steps(TP& tp, TC& tc, NP& plain, NC& checkpointed, OP& op, OC& oc, int steps) {
  for (int step = 0; step < steps; ++step) {
    const StepResult a = tp.step(op), b = tc.step(oc);
    BOOST_TEST(a.loss == b.loss);
    BOOST_TEST(same_bits(plain.gradients(), checkpointed.gradients()));
    BOOST_TEST(same_bits(tp.output(), tc.output()));
  }
  BOOST_TEST(same_bits(plain.values(), checkpointed.values()));
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_checkpointed_network_is_the_same_network) {
  BOOST_TEST(Checkpointed<float>::architecture() == Plain<float>::architecture());  // model files load across
  Plain<float> plain(3);
  Checkpointed<float> checkpointed(3);
  BOOST_REQUIRE_EQUAL(plain.parameters().size(), checkpointed.parameters().size());
  for (std::size_t k = 0; k < plain.parameters().size(); ++k)
    BOOST_TEST(plain.parameters()[k].name == checkpointed.parameters()[k].name);
  BOOST_TEST(same_bits(plain.values(), checkpointed.values()));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(steps_equal_the_plain_network_to_the_bit, S, test::scalar_types) {
  Plain<S> plain(5);
  Checkpointed<S> checkpointed(5);
  Trainer<Plain<S>, SoftmaxCrossEntropy<>, 6> tp(plain);
  Trainer<Checkpointed<S>, SoftmaxCrossEntropy<>, 6> tc(checkpointed);
  fill(tp, 1), fill(tc, 1);
  Adam op(plain), oc(checkpointed);
  expect_same_steps(tp, tc, plain, checkpointed, op, oc, 4);
  // inference and evaluation run the same forward pass
  fill(tp, 2), fill(tc, 2);
  BOOST_TEST(same_bits(tp.infer(), tc.infer()));
  Predictor<Checkpointed<S>, 6> predictor(checkpointed);
  predictor.inputs() = tp.inputs();
  BOOST_TEST(same_bits(predictor(), tp.infer()));
}

BOOST_AUTO_TEST_CASE(a_run_time_batch_and_a_change_of_batch) {
  Plain<double> plain(7);
  Checkpointed<double> checkpointed(7);
  Trainer<Plain<double>, SoftmaxCrossEntropy<>> tp(plain, 5);
  Trainer<Checkpointed<double>, SoftmaxCrossEntropy<>> tc(checkpointed, 5);
  fill(tp, 3), fill(tc, 3);
  Sgd op(plain, {.lr = 0.1, .momentum = 0.9}), oc(checkpointed, {.lr = 0.1, .momentum = 0.9});
  expect_same_steps(tp, tc, plain, checkpointed, op, oc, 2);
  for (auto* t : {&tp.inputs(), &tc.inputs()}) t->resize(11);
  tp.targets().resize(11), tc.targets().resize(11);
  fill(tp, 4), fill(tc, 4);
  expect_same_steps(tp, tc, plain, checkpointed, op, oc, 2);
}

BOOST_AUTO_TEST_CASE(a_block_without_parameters_and_the_bytes_by_hand) {
  // Checkpoint<ReLU> four times: one group with nothing to rebind but its input
  using P = Network<Sequential<Linear<2, 3>, ReLU, ReLU, ReLU, ReLU, Linear<3, 3>>, double>;
  using C = Network<
      Sequential<Linear<2, 3>, Checkpoint<ReLU>, Checkpoint<ReLU>, Checkpoint<ReLU>, Checkpoint<ReLU>, Linear<3, 3>>,
      double>;
  P plain(2);
  C checkpointed(2);
  Trainer<P, SoftmaxCrossEntropy<>, 4> tp(plain);
  Trainer<C, SoftmaxCrossEntropy<>, 4> tc(checkpointed);
  fill(tp, 5), fill(tc, 5);
  Sgd op(plain, {.lr = 0.5}), oc(checkpointed, {.lr = 0.5});
  expect_same_steps(tp, tc, plain, checkpointed, op, oc, 3);
  // By hand, batch 4, 8-byte doubles, every value 4x3 (96 bytes). Plain: the first affine's
  // value and adjoint (192); each ReLU's value and adjoint, and the gradient of its input (288,
  // four times); the last affine's value and adjoint, and its input's gradient (288); the loss's
  // 1x1 value and adjoint, and its input's gradient (16 + 96): 1744.
  static_assert(decltype(tp)::activation_bytes() == 192 + 4 * 288 + 288 + 112);
  // Checkpointed: each ReLU keeps its output (96, four times); the group holds one ReLU program
  // (288) and the adjoint it passes on (96): 1360.
  static_assert(decltype(tc)::activation_bytes() == 192 + 4 * 96 + 288 + 96 + 288 + 112);
  static_assert(Trainer<C, SoftmaxCrossEntropy<>>::activation_bytes(4) == decltype(tc)::activation_bytes());
}

BOOST_AUTO_TEST_CASE(a_deep_residual_stack_keeps_fewer_bytes) {
  using B = Residual<Sequential<Linear<16, 16>, ReLU>, std::ratio<1, 4>>;
  using Seg = Sequential<B, B, B, B>;
  using P = Network<Sequential<Linear<4, 16>, ReLU, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, Linear<16, 3>>>;
  using PerBlock =
      Network<Sequential<Linear<4, 16>, ReLU, Checkpoint<B>, Checkpoint<B>, Checkpoint<B>, Checkpoint<B>, Checkpoint<B>,
                         Checkpoint<B>, Checkpoint<B>, Checkpoint<B>, Checkpoint<B>, Checkpoint<B>, Checkpoint<B>,
                         Checkpoint<B>, Checkpoint<B>, Checkpoint<B>, Checkpoint<B>, Checkpoint<B>, Linear<16, 3>>>;
  using PerSegment = Network<Sequential<Linear<4, 16>, ReLU, Checkpoint<Seg>, Checkpoint<Seg>, Checkpoint<Seg>,
                                        Checkpoint<Seg>, Linear<16, 3>>>;
  constexpr std::size_t plain = Trainer<P, SoftmaxCrossEntropy<>, 32>::activation_bytes();
  constexpr std::size_t per_block = Trainer<PerBlock, SoftmaxCrossEntropy<>, 32>::activation_bytes();
  constexpr std::size_t per_segment = Trainer<PerSegment, SoftmaxCrossEntropy<>, 32>::activation_bytes();
  // A plain block keeps four 32x16 values and adjoints (affine, ReLU, the branch scale, the sum)
  // and its input's gradient: 9 units of 2048 bytes. Checkpointed per block: 16 outputs, one
  // block's program and the adjoint passed on (16 + 9 + 1 units); per segment of four: 4
  // outputs, one segment's program (4 x 8 + 1) and the adjoint passed on (4 + 33 + 1). With one
  // program shared by a whole group, the smallest group member keeps the least here.
  static_assert(plain - per_block == (16 * 9 - (16 + 9 + 1)) * 2048);
  static_assert(plain - per_segment == (16 * 9 - (4 + 33 + 1)) * 2048);
  P p(4);
  PerSegment c(4);
  Trainer<P, SoftmaxCrossEntropy<>, 32> tp(p);
  Trainer<PerSegment, SoftmaxCrossEntropy<>, 32> tc(c);
  fill(tp, 6), fill(tc, 6);
  Sgd op(p, {.lr = 0.05}), oc(c, {.lr = 0.05});
  expect_same_steps(tp, tc, p, c, op, oc, 2);
}

BOOST_AUTO_TEST_CASE(several_threads) {
  Plain<double> plain(9);
  Checkpointed<double> checkpointed(9);
  ParallelTrainer<Plain<double>, SoftmaxCrossEntropy<>, 12> tp(plain, 3);
  ParallelTrainer<Checkpointed<double>, SoftmaxCrossEntropy<>, 12> tc(checkpointed, 3);
  fill(tp, 7), fill(tc, 7);
  Sgd op(plain, {.lr = 0.1}), oc(checkpointed, {.lr = 0.1});
  expect_same_steps(tp, tc, plain, checkpointed, op, oc, 3);
}

BOOST_AUTO_TEST_CASE(mse_and_a_checkpoint_after_the_loss_input) {
  // MSE targets, and a checkpointed layer right before the loss
  using P = Network<Sequential<Linear<3, 5>, Tanh, Linear<5, 5>, Tanh, Linear<5, 2>>, double>;
  using C =
      Network<Sequential<Linear<3, 5>, Tanh, Checkpoint<Sequential<Linear<5, 5>, Tanh>>, Checkpoint<Linear<5, 2>>>,
              double>;
  P plain(1);
  C checkpointed(1);
  Trainer<P, MSE, 4> tp(plain);
  Trainer<C, MSE, 4> tc(checkpointed);
  tp.inputs().value().setRandom();
  tp.targets().value().setRandom();
  tc.inputs() = tp.inputs().value();
  tc.targets() = tp.targets().value();
  Sgd op(plain, {.lr = 0.1}), oc(checkpointed, {.lr = 0.1});
  expect_same_steps(tp, tc, plain, checkpointed, op, oc, 3);
}
