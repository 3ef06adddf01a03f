// layers/: widths, parameter layout and names, forward values, Residual's shared input.
#define BOOST_TEST_MODULE layers_sequential
#include "tapeless/layers/sequential.hpp"

#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/tapeless.hpp"

#include <boost/test/unit_test.hpp>

#include <memory>

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

BOOST_AUTO_TEST_CASE(unknown_parameter_name_is_named) {
  Network<Mlp> net;
  try {
    net.parameter("1.weight");
    BOOST_FAIL("must throw");
  } catch (const std::out_of_range& e) {
    BOOST_TEST(std::string(e.what()) == "tapeless::Network: no parameter named '1.weight'");
  }
}
