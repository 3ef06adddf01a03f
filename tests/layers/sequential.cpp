// layers/: widths, parameter layout and names, forward values, Residual's shared input and its
// branch scale (which keeps a 16-block stack's gradients healthy: the notes' exercise 7).
#define BOOST_TEST_MODULE layers_sequential
#include "tapeless/layers/sequential.hpp"

#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/tapeless.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <ratio>
#include <tuple>

using namespace tapeless;

using Mlp = Sequential<Linear<4, 8>, ReLU, Linear<8, 3>>;
static_assert(Mlp::in == 4 && Mlp::out == 3);
static_assert(Mlp::parameter_size == 4 * 8 + 8 + 8 * 3 + 3);
static_assert(Sequential<ReLU, Linear<5, 2>, Tanh>::in == 5);
static_assert(Sequential<ReLU, Tanh>::in == any_width);
using Res = Residual<Sequential<Linear<8, 8>, Tanh>>;
static_assert(Res::in == 8 && Res::out == 8 && Res::parameter_size == 72);

BOOST_AUTO_TEST_CASE(names_offsets_and_shapes_follow_pytorch_sequential) {
  Network<Sequential<Linear<4, 8>, ReLU, Res, Linear<8, 3>>, double> net(1);
  const auto& p = net.parameters();
  BOOST_TEST_REQUIRE(p.size() == 6u);
  const char* names[] = {"0.weight", "0.bias", "2.block.0.weight", "2.block.0.bias", "3.weight", "3.bias"};
  Index offset = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    BOOST_TEST(p[i].name == names[i]);
    BOOST_TEST(p[i].offset == offset);
    offset += p[i].rows * p[i].cols;
  }
  BOOST_TEST(offset == net.values().size());
  BOOST_TEST(p[2].rows == 8);
  BOOST_TEST(p[5].cols == 3);
}

BOOST_AUTO_TEST_CASE(forward_is_the_textbook_forward) {
  Network<Mlp, double> net(3);
  Tensor<double, 5, 4> x;
  x.value().setRandom();
  const Eigen::MatrixXd w1 = net.parameter("0.weight"), b1 = net.parameter("0.bias");
  const Eigen::MatrixXd w2 = net.parameter("2.weight"), b2 = net.parameter("2.bias");
  const Eigen::MatrixXd a1 = ((x.value() * w1).rowwise() + b1.row(0)).cwiseMax(0.0);
  const Eigen::MatrixXd y = (a1 * w2).rowwise() + b2.row(0);
  BOOST_TEST(((eval(net.forward(input(x))) - y).norm() < 1e-12));
}

BOOST_AUTO_TEST_CASE(residual_adds_its_input_which_appears_once) {
  Network<Sequential<Linear<4, 8>, Res>, double> net(5);
  Tensor<double, 2, 4> x;
  x.value().setRandom();
  const Eigen::MatrixXd h = (x.value() * Eigen::MatrixXd(net.parameter("0.weight"))).rowwise() +
                            Eigen::MatrixXd(net.parameter("0.bias")).row(0);
  const Eigen::MatrixXd block = ((h * Eigen::MatrixXd(net.parameter("1.block.0.weight"))).rowwise() +
                                 Eigen::MatrixXd(net.parameter("1.block.0.bias")).row(0))
                                    .array()
                                    .tanh()
                                    .matrix();
  auto out = net.forward(input(x));
  Program p(out);
  p.forward();
  BOOST_TEST(((p.value() - (h + block)).norm() < 1e-12));
  // x, W0, b0, affine | Shared(affine), W1, b1, affine, tanh | + : the first layer is in the tree
  // once; the block reads it through a Shared leaf
  static_assert(decltype(p)::positions() == 10);
}

BOOST_AUTO_TEST_CASE(deep_residual_stacks_grow_linearly) {
  using Block = Residual<Sequential<Linear<8, 8>, ReLU>>;
  using Deep = Sequential<Linear<4, 8>, Block, Block, Block, Block, Block, Block, Block, Block, Block, Block>;
  Network<Deep, double> net(1);
  Tensor<double, 2, 4> x;
  auto out = net.forward(input(x));
  // per block: Shared, W, b, affine, relu, + (without Shared it would double at every block)
  static_assert(decltype(Program(out))::positions() == 4 + 10 * 6);
}

BOOST_AUTO_TEST_CASE(residual_on_a_temporary_tensor_holds_its_value) {
  // A tensor rvalue becomes a Constant (held by value), never a Var pointing at the temporary:
  // the expression outlives the tensor (heap-allocated and freed, so ASan sees any dangling read).
  Network<Res, double> net(2);
  auto tensor = std::make_unique<Tensor<double, 1, 8>>();
  tensor->value().setLinSpaced(-1.0, 1.0);
  const Eigen::Matrix<double, 1, 8> x = tensor->value();
  auto out = net.forward(std::move(*tensor));
  tensor.reset();
  BOOST_TEST((!detail::mentions_v<decltype(out), Tensor<double, 1, 8>>));  // no Var of the temporary
  const Eigen::MatrixXd expected = x + ((x * net.parameter("block.0.weight")).rowwise() +
                                        Eigen::RowVectorXd(Eigen::MatrixXd(net.parameter("block.0.bias")).row(0)))
                                           .array()
                                           .tanh()
                                           .matrix();
  BOOST_TEST(((eval(out) - expected).norm() < 1e-12));
}

namespace user {
struct Swap : NoParams {  // a user layer without describe(): the compiler's name of its type
  static constexpr int in = any_width;
  static constexpr int out = any_width;
  template <class X, class P>
  static auto apply(X&& x, const P&) {
    return -std::forward<X>(x);
  }
};
}  // namespace user

BOOST_AUTO_TEST_CASE(architectures_read_as_pytorch_prints_them) {
  BOOST_TEST(Network<Mlp>::architecture() == "Sequential(Linear(4, 8), ReLU, Linear(8, 3))");
  using Every = Sequential<Linear<4, 8>, LeakyReLU<>, ELU<std::ratio<1, 2>>, GELU, SiLU, Sigmoid, Tanh,
                           Residual<Sequential<Linear<8, 8>, Tanh>, std::ratio<2, 8>>, Res, Softmax>;
  BOOST_TEST(Network<Every>::architecture() ==
             "Sequential(Linear(4, 8), LeakyReLU(1/100), ELU(1/2), GELU, SiLU, Sigmoid, Tanh, "
             "Residual(Sequential(Linear(8, 8), Tanh), scale 1/4), Residual(Sequential(Linear(8, 8), Tanh)), Softmax)");
  BOOST_TEST(describe_layer<user::Swap>() == "user::Swap");
}

BOOST_AUTO_TEST_CASE(unknown_parameter_name_is_named) {
  Network<Mlp> net;
  try {
    net.parameter("1.weight");
    BOOST_FAIL("must throw");
  } catch (const std::out_of_range& e) {
    BOOST_TEST(std::string(e.what()) == "tapeless::Network: no parameter named '1.weight'");
  }
}

BOOST_AUTO_TEST_CASE(scaled_residual_is_x_plus_s_block_with_the_same_names) {
  using Scaled = Residual<Sequential<Linear<8, 8>, Tanh>, std::ratio<1, 4>>;
  static_assert(Scaled::scale == 0.25 && Scaled::parameter_size == Res::parameter_size);
  Network<Sequential<Linear<4, 8>, Scaled>, double> net(5, Init::xavier);
  BOOST_TEST(net.parameters()[2].name == "1.block.0.weight");
  Tensor<double, 3, 4> x;
  x.value().setRandom();
  const Eigen::MatrixXd h = (x.value() * Eigen::MatrixXd(net.parameter("0.weight"))).rowwise() +
                            Eigen::MatrixXd(net.parameter("0.bias")).row(0);
  const Eigen::MatrixXd block = ((h * Eigen::MatrixXd(net.parameter("1.block.0.weight"))).rowwise() +
                                 Eigen::MatrixXd(net.parameter("1.block.0.bias")).row(0))
                                    .array()
                                    .tanh()
                                    .matrix();
  BOOST_TEST(((eval(net.forward(input(x))) - (h + 0.25 * block)).norm() < 1e-12));
  // the adjoint through the scaled branch, against central differences
  auto loss = sum(square(net.forward(input(x))));
  std::apply([&](auto&... p) { test::check_gradients(loss, p...); }, net.params().refs());
}

namespace {
// Smallest and largest parameter-gradient norm of a deep net on one batch, at initialisation and
// after 100 SGD steps (reference notes 001: vanishing < 1e-7, exploding > 100).
struct NormRange {
  double lo = 1e300, hi = 0;
  bool healthy() const { return lo >= 1e-7 && hi <= 100; }
};
template <class R>
using Deep16 = Sequential<Linear<16, 32>, ReLU, R, R, R, R, R, R, R, R, R, R, R, R, R, R, R, R, Linear<32, 4>>;

template <class Layers>
std::array<NormRange, 2> gradient_norm_ranges(Init init, int steps = 100) {
  using Net = Network<Layers, double>;
  Net net(7, init);
  Trainer<Net, SoftmaxCrossEntropy<>, 32> trainer(net);
  Rng rng(1);
  for (Index i = 0; i < 32; ++i) {
    for (Index j = 0; j < 16; ++j) trainer.inputs()(i, j) = rng.normal();
    trainer.targets()(i, 0) = static_cast<int>(rng.below(4));
  }
  auto range = [&] {
    NormRange r;
    for (const GradientNorm& g : gradient_norms(net)) {
      BOOST_TEST_REQUIRE(std::isfinite(g.norm), g.name);
      r.lo = std::min(r.lo, g.norm);
      r.hi = std::max(r.hi, g.norm);
    }
    return r;
  };
  trainer.compute();
  const NormRange at_init = range();
  Sgd sgd(net, {.lr = 0.01, .momentum = 0.9});
  for (int step = 0; step < steps; ++step) BOOST_TEST_REQUIRE(trainer.step(sgd).ok());
  trainer.compute();
  return {at_init, range()};
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_scaled_residual_stack_of_16_blocks_stays_healthy_where_others_do_not) {
  // the reference notes' exercise 7: vanishing gradients in a deep net, solved by residual blocks
  const auto residual =
      gradient_norm_ranges<Deep16<Residual<Sequential<Linear<32, 32>, ReLU>, std::ratio<1, 4>>>>(Init::he);
  BOOST_TEST(residual[0].healthy(), "at initialisation: " << residual[0].lo << " to " << residual[0].hi);
  BOOST_TEST(residual[1].healthy(), "after 100 steps: " << residual[1].lo << " to " << residual[1].hi);
  // the same stack unscaled explodes (every block doubles the second moment of x) ...
  using Unscaled = Residual<Sequential<Linear<32, 32>, ReLU>>;
  BOOST_TEST(gradient_norm_ranges<Deep16<Unscaled>>(Init::he, 0)[0].hi > 100);
  // ... and the plain Sigmoid stack of the same depth vanishes
  using SigmoidBlock = Sequential<Linear<32, 32>, Sigmoid>;
  BOOST_TEST(gradient_norm_ranges<Deep16<SigmoidBlock>>(Init::xavier, 0)[0].lo < 1e-7);
}

BOOST_AUTO_TEST_CASE(the_default_initialisation_follows_the_activations) {
  static_assert(default_init<Mlp>() == Init::he);
  static_assert(default_init<Sequential<Linear<4, 8>, Tanh, Linear<8, 3>>>() == Init::xavier);
  static_assert(default_init<Sequential<Linear<4, 8>, Sigmoid, Res, Linear<8, 1>, Sigmoid>>() == Init::xavier);
  static_assert(default_init<Sequential<Linear<4, 8>, Tanh, Linear<8, 8>, GELU>>() == Init::he);  // mixed: He
  static_assert(default_init<Linear<4, 2>>() == Init::he);                                        // none: He
  static_assert(default_init<Sequential<Linear<4, 8>, Softmax>>() == Init::he);                   // no preference known
  // and the constructor uses it: a Tanh network drawn by default is the Xavier one
  using TanhNet = Sequential<Linear<4, 8>, Tanh, Linear<8, 3>>;
  BOOST_TEST((Network<TanhNet>(5).values() == Network<TanhNet>(5, Init::xavier).values()));
  BOOST_TEST((Network<Mlp>(5).values() == Network<Mlp>(5, Init::he).values()));
  BOOST_TEST(!(Network<TanhNet>(5).values() == Network<TanhNet>(5, Init::he).values()));
}
