// After construction, a training step (forward, backward, optimizer update) and an inference
// allocate nothing, for a fixed batch and for a run-time batch of unchanged size.
#include "support/eigen_guard.hpp"  // before Eigen: its heap guard on in Release too
#define BOOST_TEST_MODULE network_no_allocation
#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/checkpoint.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/layers/tap.hpp"
#include "tapeless/losses/mse.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/trainer.hpp"
#include "tapeless/optim/adam.hpp"
#include "tapeless/optim/sgd.hpp"

#include "support/allocation_counter.hpp"

#include <boost/test/unit_test.hpp>

using namespace tapeless;

namespace {
template <class Train, class Opt>
void expect_no_allocation(Train& trainer, Opt& optimizer) {
  trainer.inputs().value().setRandom();
  for (Index i = 0; i < trainer.targets().rows(); ++i) trainer.targets()(i, 0) = static_cast<int>(i % 3);
  BOOST_TEST(test::allocations_during([&] {
               for (int i = 0; i < 5; ++i) BOOST_REQUIRE(trainer.step(optimizer).ok());
             }) == 0);
  BOOST_TEST(test::allocations_during([&] { (void)trainer.infer(); }) == 0);
}
}  // namespace

BOOST_AUTO_TEST_CASE(fixed_batch_model) {
  using Net = Network<Sequential<Linear<4, 16>, ReLU, Linear<16, 16>, Tanh, Linear<16, 3>>>;
  Net net(1);
  Trainer<Net, SoftmaxCrossEntropy<>, 1> trainer(net);  // batch 1: the embedded case
  Adam adam(net);
  expect_no_allocation(trainer, adam);
}

BOOST_AUTO_TEST_CASE(runtime_batch_model) {
  using Net = Network<Sequential<Linear<8, 32>, ReLU, Residual<Sequential<Linear<32, 32>, ReLU>>, Linear<32, 3>>>;
  Net net(2);
  Trainer<Net, SoftmaxCrossEntropy<>> trainer(net, 32);
  Sgd sgd(net, {.lr = 0.01, .momentum = 0.9});
  expect_no_allocation(trainer, sgd);
}

BOOST_AUTO_TEST_CASE(fashion_mnist_sized_model) {
  // 784-256-10 at batch 64: Eigen's GEMM would allocate its packing buffers on every product;
  // the program keeps them (core/product.hpp), reserved at construction.
  using Net = Network<Sequential<Linear<784, 256>, ReLU, Linear<256, 10>>>;
  Net net(3);
  Trainer<Net, SoftmaxCrossEntropy<>> trainer(net, 64);
  Adam adam(net);
  expect_no_allocation(trainer, adam);
}

BOOST_AUTO_TEST_CASE(tapped_model_with_hooks) {
  // every ReLU tapped (layers/tap.hpp), and a hook on each that summarises its tap during backward
  using Net =
      tap_every_t<ReLU,
                  Network<Sequential<Linear<8, 32>, ReLU, Residual<Sequential<Linear<32, 32>, ReLU>>, Linear<32, 3>>>>;
  Net net(4);
  Trainer<Net, SoftmaxCrossEntropy<>> trainer(net, 16);
  double norms = 0;
  trainer.on_tap([&](const TapView<float>& t) { norms += t.summary().gradient_norm; });
  Sgd sgd(net, {.lr = 0.01});
  expect_no_allocation(trainer, sgd);
  BOOST_TEST(norms > 0);
}

BOOST_AUTO_TEST_CASE(checkpointed_model) {
  // three checkpointed residual blocks share one program, re-pointed at each in turn
  using Block = Residual<Sequential<Linear<32, 32>, ReLU>>;
  using Net =
      Network<Sequential<Linear<8, 32>, ReLU, Checkpoint<Block>, Checkpoint<Block>, Checkpoint<Block>, Linear<32, 3>>>;
  Net net(5);
  Trainer<Net, SoftmaxCrossEntropy<>> trainer(net, 16);
  Adam adam(net);
  expect_no_allocation(trainer, adam);
}

BOOST_AUTO_TEST_CASE(mixed_precision_models) {
  // three residual blocks share one float program and keep bfloat16 / binary16 copies; the
  // binary16 Trainer also scales the loss
  using Block = Residual<Sequential<Linear<32, 32>, ReLU>>;
  using Net = Network<Sequential<Linear<8, 32>, ReLU, Block, Block, Block, Linear<32, 3>>>;
  Net a(5), b(5);
  Trainer<Net, SoftmaxCrossEntropy<>, dynamic, Mixed<Eigen::bfloat16>> bf16(a, 16);
  Trainer<Net, SoftmaxCrossEntropy<>, dynamic, Mixed<Eigen::half>> f16(b, 16);
  Adam adam_a(a), adam_b(b);
  expect_no_allocation(bf16, adam_a);
  expect_no_allocation(f16, adam_b);
}

BOOST_AUTO_TEST_CASE(one_row_with_the_update_fused) {
  // Sgd without momentum at one row, on a network above Sgd::fused_outer_minimum: the fused
  // update (network/trainer.hpp), at a fixed batch and a run-time batch of one
  using Net = Network<Sequential<Linear<3, 40>, ReLU, Linear<40, 100>, Tanh, Linear<100, 3>>>;
  static_assert(Net::parameter_size >= Sgd<float>::fused_outer_minimum);
  Net net(4);
  Trainer<Net, SoftmaxCrossEntropy<>, 1> fixed(net);
  Trainer<Net, SoftmaxCrossEntropy<>> runtime(net, 1);
  Sgd sgd(net, {.lr = 0.01, .weight_decay = 1e-4});
  expect_no_allocation(fixed, sgd);
  expect_no_allocation(runtime, sgd);
}
