// The benchmark's baselines compute the same gradients as tapeless: the hand-written Eigen
// backprop and the minimal tape to 1e-12 in double, the numerical gradient to 1e-6; fixed-size
// and dynamic storage, ReLU, Sigmoid and Tanh, softmax-CE and MSE, two and three layers. (mlp_bench checks libtorch's,
// and these again in float, before it times anything.)
#define BOOST_TEST_MODULE bench_baselines
#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/mse.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/trainer.hpp"

#include "baselines/handwritten.hpp"
#include "baselines/tape.hpp"

#include <boost/test/unit_test.hpp>

#include <random>
#include <vector>

namespace {

using namespace tapeless;

template <class Net, int Batch>
struct Case {
  Net net{11};
  Trainer<Net, SoftmaxCrossEntropy<>, Batch> trainer{net, 5};
  Case() {
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> u(-1, 1);
    auto& x = trainer.inputs().value();
    for (Index j = 0; j < x.cols(); ++j)
      for (Index i = 0; i < x.rows(); ++i) x(i, j) = u(rng);
    for (Index i = 0; i < x.rows(); ++i) trainer.targets()(i, 0) = static_cast<int>(i % Net::out);
    trainer.compute();
  }
  std::vector<int> labels() const {
    std::vector<int> l;
    for (Index i = 0; i < trainer.targets().rows(); ++i) l.push_back(trainer.targets()(i, 0));
    return l;
  }
};

double deviation(const std::vector<double>& a, const Eigen::VectorXd& b) {
  BOOST_REQUIRE_EQUAL(a.size(), static_cast<std::size_t>(b.size()));
  return (Eigen::Map<const Eigen::VectorXd>(a.data(), b.size()) - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff();
}

template <class Hand, class Net, int Batch>
void check_handwritten(double numerical_tolerance) {
  Case<Net, Batch> c;
  Hand h(5);
  bench::load_parameters(h, c.net.values().data());
  h.x = c.trainer.inputs().value();
  h.labels = c.labels();
  const double loss = h.compute();
  BOOST_TEST(loss == c.trainer.compute().loss, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(deviation(bench::flat_gradients(h), c.net.gradients()) < 1e-12);
  bench::numerical_step(h, 1e-6, 0.0);
  BOOST_TEST(deviation(bench::flat_gradients(h), c.net.gradients()) < numerical_tolerance);
}

template <class Net, int Batch>
void check_tape(bench::tape::TapeMlp<double>::Activation act, const std::vector<int>& widths) {
  Case<Net, Batch> c;
  bench::tape::TapeMlp<double> t(widths, act, 5);
  t.load(c.net.values().data());
  t.x = c.trainer.inputs().value();
  t.labels = c.labels();
  for (int run = 0; run < 2; ++run) {  // a second run must not accumulate into the first's gradients
    BOOST_TEST(t.compute() == c.trainer.compute().loss, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(deviation(t.gradients(), c.net.gradients()) < 1e-12);
  }
  // Inference records nothing and gives the logits.
  c.trainer.compute();
  BOOST_TEST((t.infer() - c.trainer.infer()).cwiseAbs().maxCoeff() < 1e-12);
}

using Small = Network<Sequential<Linear<4, 16>, ReLU, Linear<16, 16>, ReLU, Linear<16, 3>>, double>;
using Wide = Network<Sequential<Linear<40, 48>, Sigmoid, Linear<48, 10>>, double>;

}  // namespace

BOOST_AUTO_TEST_CASE(handwritten_fixed_size_relu_three_layers) {
  using Hand = bench::HandMlp<double, bench::Relu, 5, bench::Widths<4, 16, 16, 3>>;
  static_assert(Hand::fixed);
  check_handwritten<Hand, Small, 5>(1e-6);
}

BOOST_AUTO_TEST_CASE(handwritten_dynamic_sigmoid_two_layers) {
  using Hand = bench::HandMlp<double, bench::Sigmoid, 5, bench::Widths<40, 48, 10>>;
  static_assert(!Hand::fixed);  // 40 and 48 are over 32
  check_handwritten<Hand, Wide, dynamic>(1e-6);
}

BOOST_AUTO_TEST_CASE(handwritten_runtime_batch) {
  using Hand = bench::HandMlp<double, bench::Relu, bench::runtime_batch, bench::Widths<4, 16, 16, 3>>;
  static_assert(!Hand::fixed);
  check_handwritten<Hand, Small, dynamic>(1e-6);
}

BOOST_AUTO_TEST_CASE(tape_relu_and_sigmoid) {
  check_tape<Small, 5>(bench::tape::TapeMlp<double>::Activation::relu, {4, 16, 16, 3});
  check_tape<Wide, dynamic>(bench::tape::TapeMlp<double>::Activation::sigmoid, {40, 48, 10});
}

BOOST_AUTO_TEST_CASE(handwritten_tanh_mse_double_batch_200) {
  // mlp_bench's SimpleChains configuration: 24-8-2, tanh, MSE, double, batch 200
  using Net = Network<Sequential<Linear<24, 8>, Tanh, Linear<8, 2>>, double>;
  using Hand = bench::HandMlp<double, bench::Tanh, 200, bench::Widths<24, 8, 2>, bench::Mse>;
  static_assert(!Hand::fixed);  // a batch over 32
  Net net{5};
  Trainer<Net, MSE, 200> trainer{net};
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-1, 1);
  for (Index j = 0; j < 24; ++j)
    for (Index i = 0; i < 200; ++i) trainer.inputs().value()(i, j) = u(rng);
  for (Index j = 0; j < 2; ++j)
    for (Index i = 0; i < 200; ++i) trainer.targets().value()(i, j) = u(rng);
  Hand h(200);
  bench::load_parameters(h, net.values().data());
  h.x = trainer.inputs().value();
  h.labels = trainer.targets().value();
  const double loss = h.compute();
  BOOST_TEST(loss == trainer.compute().loss, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(deviation(bench::flat_gradients(h), net.gradients()) < 1e-12);
  bench::numerical_step(h, 1e-6, 0.0);
  BOOST_TEST(deviation(bench::flat_gradients(h), net.gradients()) < 1e-6);
}
