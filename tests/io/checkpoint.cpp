// io/checkpoint.hpp: training resumed from a checkpoint continues exactly as if never stopped.
#define BOOST_TEST_MODULE io_checkpoint
#include "tapeless/io/checkpoint.hpp"

#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/mse.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/trainer.hpp"

#include "support/hostile.hpp"
#include "support/scratch.hpp"

#include <boost/test/unit_test.hpp>

using namespace tapeless;
using Net = Network<Sequential<Linear<5, 12>, Tanh, Linear<12, 3>>>;
using Train = Trainer<Net, SoftmaxCrossEntropy<>, 8>;

namespace {
void batch(Train& t, int step) {
  Rng rng(static_cast<std::uint64_t>(step));
  for (Index i = 0; i < 8; ++i) {
    for (Index j = 0; j < 5; ++j) t.inputs()(i, j) = static_cast<float>(rng.normal());
    t.targets()(i, 0) = static_cast<int>(rng.below(3));
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(resumed_training_is_bit_identical) {
  const std::string path = test::scratch_path("checkpoint");
  Net straight(1);
  Train t1(straight);
  Adam a1(straight, {.lr = 0.01, .weight_decay = 1e-3});
  for (int s = 0; s < 10; ++s) batch(t1, s), t1.step(a1);
  save_checkpoint(straight, a1, path);
  for (int s = 10; s < 20; ++s) batch(t1, s), t1.step(a1);

  Net resumed(99);  // other weights, fresh optimizer: all of it comes from the checkpoint
  Train t2(resumed);
  Adam a2(resumed, {.lr = 0.01, .weight_decay = 1e-3});
  load_checkpoint(resumed, a2, path);
  BOOST_TEST(a2.step_count() == 10);
  for (int s = 10; s < 20; ++s) batch(t2, s), t2.step(a2);
  BOOST_TEST((resumed.values().array() == straight.values().array()).all());
  BOOST_TEST((a2.first_moment().array() == a1.first_moment().array()).all());
}

BOOST_AUTO_TEST_CASE(a_weights_only_file_is_not_a_checkpoint) {
  const std::string path = test::scratch_path("weights");
  Net net(1), other(2);
  save_safetensors(net, path);
  Adam adam(other);
  const Eigen::VectorXf before = other.values();
  try {
    load_checkpoint(other, adam, path);
    BOOST_FAIL("must throw");
  } catch (const safetensors_error& e) {
    BOOST_TEST(std::string(e.what()) == "tapeless: " + path +
                                            ": not an Adam checkpoint (optimizer.m, optimizer.v and the optimizer.step "
                                            "metadata are needed)");
  }
  BOOST_TEST((other.values() == before));
  BOOST_TEST(adam.step_count() == 0);
}

BOOST_AUTO_TEST_CASE(optimizer_state_is_checked_as_strictly_as_weights) {
  // Hand-crafted checkpoints (tests/fixtures/hostile/make_hostile.py) for the tests' 4-8-3 MLP.
  using Mlp = Network<Sequential<Linear<4, 8>, ReLU, Linear<8, 3>>>;
  Mlp net(1);
  Adam adam(net);
  const Eigen::VectorXf weights = net.values();
  auto expect = [&](const std::string& name, const std::string& problem) {
    const std::string path = test::hostile(name);
    std::string error;
    try {
      load_checkpoint(net, adam, path);
    } catch (const safetensors_error& e) {
      error = e.what();
    }
    BOOST_TEST(error.find("tapeless: " + path + ": " + problem) == 0u, name << ": " << error);
    BOOST_TEST((net.values().array() == weights.array()).all());  // nothing changed
    BOOST_TEST(adam.step_count() == 0);
    BOOST_TEST(adam.first_moment().isZero());
    BOOST_TEST(adam.second_moment().isZero());
  };
  expect("checkpoint_m_nan.safetensors", "tensor 'optimizer.m' has a non-finite value (nan) at flat index 5");
  expect("checkpoint_v_inf.safetensors", "tensor 'optimizer.v' has a non-finite value (inf) at flat index 66");
  expect("checkpoint_v_negative.safetensors", "tapeless::Adam: state: second moment at 10 is not finite and >= 0");
  expect("checkpoint_step_max.safetensors",
         "tapeless::Adam: state: step count 9223372036854775807 is outside [0, 2^53]");
  // the same file with a sound state loads: the refusals above are about the state alone
  load_checkpoint(net, adam, test::hostile("checkpoint_valid.safetensors"));
  BOOST_TEST(adam.step_count() == 3);
  BOOST_TEST(adam.second_moment()(10) == 0.001f);
  BOOST_TEST(net.values().isConstant(0.5f));
}
