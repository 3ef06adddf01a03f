// network/chain.hpp: a network compiled layer by layer computes exactly (bit for bit) what one
// program over the whole network's expression computes: loss, every parameter's gradient, the
// output of Trainer::infer and of a Predictor; with fixed and run-time batches, residual blocks,
// a first layer without parameters and a network whose layer is not a Sequential. And
// Program::backward(seed), which chains the layers, against the gradient of sum(seed .* e).
#define BOOST_TEST_MODULE network_chain
#include "tapeless/network/chain.hpp"

#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/mse.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/predictor.hpp"
#include "tapeless/network/trainer.hpp"
#include "tapeless/ops/matmul.hpp"
#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"
#include "tapeless/ops/tanh.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <tuple>
#include <type_traits>

using namespace tapeless;

namespace {
template <class Layers, class Loss, int Batch>
void same_as_one_program(unsigned seed, Index rows) {
  using Net = Network<Layers, double>;
  Net net(seed, Init::xavier);
  net.values() *= 2.0;
  Trainer<Net, Loss, Batch> trainer(net, rows);
  test::randomize(trainer.inputs());
  auto& y = trainer.targets();
  if constexpr (std::is_same_v<typename std::remove_cvref_t<decltype(y)>::scalar_type, int>) {
    for (Index i = 0; i < rows; ++i) y(i, 0) = static_cast<int>((i * 7 + 3) % Net::out);
  } else {
    test::randomize(y, 0.0, 1.0);
  }

  // the reference: one program over the whole network's expression
  const auto whole = test::whole_network_loss<Loss>(net, trainer.inputs(), y);
  const auto expected_gradients = net.gradients().eval();
  const double expected_loss = whole.scalar();

  net.gradients().setConstant(-7.0);  // every gradient must be written again
  const StepResult r = trainer.compute();
  BOOST_TEST(r.ok());
  BOOST_TEST(r.loss == expected_loss);  // bit-identical: the same ops in the same order
  BOOST_TEST((net.gradients().array() == expected_gradients.array()).all());
  BOOST_TEST(!expected_gradients.isZero());

  const auto expected_output = eval(net.forward(input(trainer.inputs())));
  BOOST_TEST((trainer.infer().array() == expected_output.array()).all());
  Predictor<Net, Batch> predictor(net, rows);
  predictor.inputs().value() = trainer.inputs().value();
  BOOST_TEST((predictor().array() == expected_output.array()).all());
}

template <class Layers, class Loss>
void fixed_and_runtime_batch(unsigned seed) {
  same_as_one_program<Layers, Loss, 5>(seed, 5);
  same_as_one_program<Layers, Loss, dynamic>(seed, 1);
  same_as_one_program<Layers, Loss, dynamic>(seed, 6);
}
}  // namespace

BOOST_AUTO_TEST_CASE(layer_programs_compute_what_one_program_computes) {
  using Sce = SoftmaxCrossEntropy<>;
  fixed_and_runtime_batch<Sequential<Linear<3, 4>, ReLU, Linear<4, 2>>, Sce>(1);
  fixed_and_runtime_batch<Sequential<Linear<3, 4>, Tanh, Linear<4, 4>, Tanh, Linear<4, 4>, Sigmoid, Linear<4, 2>>, MSE>(
      2);
  fixed_and_runtime_batch<Sequential<Linear<3, 4>, Residual<Sequential<Linear<4, 4>, Tanh>>, Linear<4, 3>, Softmax>,
                          MSE>(3);
  fixed_and_runtime_batch<Sequential<Linear<3, 5>, ReLU, Residual<Sequential<Linear<5, 5>, ReLU, Linear<5, 5>>>,
                                     Residual<Sequential<Linear<5, 5>, ReLU, Linear<5, 5>>>, Linear<5, 2>>,
                          Sce>(4);
  fixed_and_runtime_batch<Sequential<Tanh, Linear<3, 2>>, MSE>(5);                  // a first layer with no parameters
  fixed_and_runtime_batch<Linear<3, 2>, SoftmaxCrossEntropy<Targets::one_hot>>(6);  // not a Sequential
  fixed_and_runtime_batch<Sequential<Linear<3, 40>, ReLU, Linear<40, 40>, ReLU, Linear<40, 3>>, Sce>(7);  // heap-sized
}

BOOST_AUTO_TEST_CASE(identical_layers_share_one_program_type) {
  using Net = Network<Sequential<Linear<3, 8>, ReLU, Linear<8, 8>, ReLU, Linear<8, 8>, ReLU, Linear<8, 2>>, float>;
  using In = detail::boundary<float, 4, 8>;
  using Hidden = detail::stage<Linear<8, 8>, In, true>;
  using Relu = detail::stage<ReLU, In, true>;
  // layers 2 and 4 are Linear<8, 8> over a 4x8 boundary, 1, 3 and 5 ReLU over one: one type each
  static_assert(std::is_same_v<typename Hidden::output, In> && std::is_same_v<typename Relu::output, In>);
  using stages = typename detail::stages_of<true, Tensor<float, 4, 3>, typename Net::layers::layer_types>::type;
  static_assert(
      std::is_same_v<stages, detail::layer_list<detail::stage<Linear<3, 8>, Tensor<float, 4, 3>, true>, Relu, Hidden,
                                                Relu, Hidden, Relu, detail::stage<Linear<8, 2>, In, true>>>);
  Net net(1);
  Trainer<Net, MSE, 4> trainer(net);
  BOOST_TEST(trainer.compute().ok());
}

BOOST_AUTO_TEST_CASE(backward_from_a_seed_is_the_gradient_of_its_inner_product) {
  Tensor<double, 3, 4> x;
  Tensor<double, 4, 2> w;
  Tensor<double, 3, 2> seed;
  test::randomize(x);
  test::randomize(w);
  test::randomize(seed);
  auto e = tanh(matmul(x, w));
  Program<decltype(e), Tensor<double, 4, 2>, Tensor<double, 3, 4>> p(e, w, x);
  p.forward();
  p.backward(seed.value());
  auto reference = grad(sum(constant(seed) * tanh(matmul(x, w))), w, x);
  BOOST_TEST((p.gradient<0>() - reference[w]).cwiseAbs().maxCoeff() < 1e-14);
  BOOST_TEST((p.gradient<1>() - reference[x]).cwiseAbs().maxCoeff() < 1e-14);
  BOOST_TEST(!p.gradient<0>().isZero());
}
