// layers/tap.hpp and the Trainer's taps: a tapped network is the same network (types, names,
// weights, bits), its taps hold the forward values and the gradients dL/dy that finite
// differences give, hooks run during backward, and misuse is named.
#define BOOST_TEST_MODULE layers_tap
#include "tapeless/layers/tap.hpp"

#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/trainer.hpp"
#include "tapeless/optim/sgd.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

using namespace tapeless;
namespace tt = boost::test_tools;

using Block = Sequential<Linear<6, 6>, ReLU>;
using Plain = Network<Sequential<Linear<4, 6>, ReLU, Residual<Block>, Linear<6, 3>>, double>;
using Every = tap_every_t<ReLU, Plain>;
static_assert(
    std::is_same_v<
        Every, Network<Sequential<Linear<4, 6>, Tap<ReLU>, Residual<Sequential<Linear<6, 6>, Tap<ReLU>>>, Linear<6, 3>>,
                       double>>);
static_assert(std::is_same_v<tap_every_t<Block, Block>, Tap<Block>>);  // a whole layer of the kind
static_assert(std::is_same_v<tap_every_t<Tanh, Plain>, Plain>);        // nothing of the kind
static_assert(default_init<Sequential<Linear<4, 4>, Tap<Sigmoid>>>() == Init::xavier);

namespace {
template <class Train>
void fill(Train& t, unsigned seed) {
  Rng rng(seed);
  for (Index i = 0; i < t.inputs().rows(); ++i) {
    for (Index j = 0; j < t.inputs().cols(); ++j) t.inputs()(i, j) = rng.normal();
    t.targets()(i, 0) = static_cast<int>(i % 3);
  }
}

/// The mean softmax cross-entropy of logits h w + b against labels 0, 1, 2, 0, ...: written out
/// here, independently of the library's loss.
double suffix_loss(const Eigen::MatrixXd& h, const Eigen::MatrixXd& w, const Eigen::MatrixXd& b) {
  const Eigen::MatrixXd z = (h * w).rowwise() + b.row(0);
  double total = 0;
  for (Index i = 0; i < z.rows(); ++i) {
    const double m = z.row(i).maxCoeff();
    total += m + std::log((z.row(i).array() - m).exp().sum()) - z(i, i % 3);
  }
  return total / static_cast<double>(z.rows());
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_tapped_network_is_the_same_network) {
  BOOST_TEST(Every::architecture() == Plain::architecture());  // model files load across
  Plain plain(3);
  Every every(3);
  BOOST_REQUIRE_EQUAL(plain.parameters().size(), every.parameters().size());
  for (std::size_t k = 0; k < plain.parameters().size(); ++k)
    BOOST_TEST(plain.parameters()[k].name == every.parameters()[k].name);
  BOOST_TEST((plain.values().array() == every.values().array()).all());  // same initialisation
  // the same steps to the bit: a tap copies, it computes nothing
  Trainer<Plain, SoftmaxCrossEntropy<>, 8> tp(plain);
  Trainer<Every, SoftmaxCrossEntropy<>, 8> te(every);
  fill(tp, 1), fill(te, 1);
  Sgd sp(plain, {.lr = 0.1, .momentum = 0.9}), se(every, {.lr = 0.1, .momentum = 0.9});
  for (int step = 0; step < 5; ++step) {
    const StepResult a = tp.step(sp), b = te.step(se);
    BOOST_TEST(a.loss == b.loss);
  }
  BOOST_TEST((plain.values().array() == every.values().array()).all());
}

BOOST_AUTO_TEST_CASE(names_follow_the_layer_paths) {
  Every net(1);
  Trainer<Every, SoftmaxCrossEntropy<>, 2> t(net);
  static_assert(decltype(t)::tap_count() == 2);
  BOOST_TEST(t.tap(0).name() == "1");
  BOOST_TEST(t.tap(1).name() == "2.block.1");
  BOOST_TEST(&t.tap("2.block.1") == &t.tap(1));
  using Named = Network<Sequential<Tap<Linear<4, 6>, "z1">, Tap<Sequential<ReLU, Linear<6, 3>>>>>;
  Named named(1);
  Trainer<Named, SoftmaxCrossEntropy<>, 2> tn(named);
  BOOST_TEST(tn.tap(0).name() == "z1");
  BOOST_TEST(tn.tap(1).name() == "1");
}

BOOST_AUTO_TEST_CASE(values_and_gradients_against_hand_computation_and_finite_differences) {
  using Net = Network<Sequential<Tap<Linear<4, 6>, "z1">, Tap<ReLU>, Linear<6, 3>>, double>;
  Net net(5);
  constexpr int batch = 7;
  Trainer<Net, SoftmaxCrossEntropy<>, batch> t(net);
  fill(t, 2);
  BOOST_REQUIRE(t.compute().ok());
  const Eigen::MatrixXd x = t.inputs().value();
  const Eigen::MatrixXd w1 = net.parameter("0.weight"), b1 = net.parameter("0.bias");
  const Eigen::MatrixXd w2 = net.parameter("2.weight"), b2 = net.parameter("2.bias");
  const Eigen::MatrixXd z1 = (x * w1).rowwise() + b1.row(0);
  const Eigen::MatrixXd h = z1.cwiseMax(0.0);
  BOOST_TEST((t.tap("z1").value() - z1).norm() < 1e-13);
  BOOST_TEST((t.tap("1").value() - h).norm() < 1e-13);

  // dL/dh against central differences of the rest of the network, written out by hand
  const Eigen::MatrixXd gh = t.tap("1").gradient();
  const double eps = 1e-6;
  for (Index i = 0; i < batch; ++i)
    for (Index j = 0; j < 6; ++j) {
      Eigen::MatrixXd up = h, down = h;
      up(i, j) += eps;
      down(i, j) -= eps;
      const double fd = (suffix_loss(up, w2, b2) - suffix_loss(down, w2, b2)) / (2 * eps);
      BOOST_TEST(gh(i, j) == fd, tt::tolerance(1e-6));
    }
  BOOST_TEST(std::abs(suffix_loss(h, w2, b2) - t.compute().loss) < 1e-12);

  // dL/dz1 is ReLU's adjoint of dL/dh, and gives the first layer's gradients: x^T dz1, sum dz1
  const Eigen::MatrixXd gz = t.tap("z1").gradient();
  BOOST_TEST((gz - gh.cwiseProduct((z1.array() > 0).cast<double>().matrix())).norm() < 1e-14);
  BOOST_TEST((Eigen::MatrixXd(net.gradient("0.weight")) - x.transpose() * gz).norm() < 1e-13);
  BOOST_TEST((Eigen::MatrixXd(net.gradient("0.bias")) - gz.colwise().sum()).norm() < 1e-13);
}

BOOST_AUTO_TEST_CASE(hooks_run_during_backward_last_layer_first) {
  Every net(2);
  Trainer<Every, SoftmaxCrossEntropy<>, 4> t(net);
  fill(t, 3);
  std::vector<std::string> calls;
  std::vector<double> norms;
  t.on_tap([&](const TapView<double>& v) {
    calls.emplace_back(v.name());
    norms.push_back(v.gradient().norm());
  });
  Sgd sgd(net, {.lr = 0.01});
  BOOST_REQUIRE(t.step(sgd).ok());
  BOOST_REQUIRE_EQUAL(calls.size(), 2u);
  BOOST_TEST(calls[0] == "2.block.1");
  BOOST_TEST(calls[1] == "1");
  BOOST_TEST(norms[0] == t.tap("2.block.1").gradient().norm());  // what the step left
  BOOST_TEST(norms[1] == t.tap("1").gradient().norm());
  // one tap's hook removed, then all
  t.on_tap("1", {});
  calls.clear();
  BOOST_REQUIRE(t.step(sgd).ok());
  BOOST_TEST(calls == std::vector<std::string>{"2.block.1"});
  t.on_tap({});
  calls.clear();
  BOOST_REQUIRE(t.step(sgd).ok());
  BOOST_TEST(calls.empty());
  // a forward pass alone replaces the values and forgets the gradients
  (void)t.infer();
  BOOST_TEST(!t.tap(0).has_gradient());
  BOOST_TEST(t.tap(0).summary().has_gradient == false);
}

BOOST_AUTO_TEST_CASE(a_hook_that_throws_stops_the_step_before_the_update) {
  Every net(2);
  Trainer<Every, SoftmaxCrossEntropy<>, 4> t(net);
  fill(t, 3);
  const Eigen::VectorXd before = net.values();
  t.on_tap("1", [](const TapView<double>&) { throw std::runtime_error("stop"); });
  Sgd sgd(net, {.lr = 0.1});
  BOOST_CHECK_THROW(t.step(sgd), std::runtime_error);
  BOOST_TEST((net.values().array() == before.array()).all());
}

BOOST_AUTO_TEST_CASE(a_tap_that_backward_never_reaches) {
  // tanh of the input: no parameter lies below it, so no adjoint is ever computed for it
  using Net = Network<Sequential<Tap<Tanh, "squash">, Linear<4, 3>>, double>;
  Net net(1);
  Trainer<Net, SoftmaxCrossEntropy<>, 3> t(net);
  fill(t, 4);
  t.on_tap([](const TapView<double>&) { BOOST_FAIL("no hook runs on an unreachable tap"); });
  Sgd sgd(net, {.lr = 0.1});
  BOOST_REQUIRE(t.step(sgd).ok());
  const TapView<double>& v = t.tap("squash");
  BOOST_TEST(!v.reachable());
  BOOST_TEST(!v.has_gradient());
  BOOST_TEST((v.value() - t.inputs().value().array().tanh().matrix()).norm() < 1e-15);
  BOOST_TEST(std::isnan(v.summary().gradient_norm));
  try {
    t.on_tap("squash", [](const TapView<double>&) {});
    BOOST_FAIL("a hook on an unreachable tap must be refused");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("never reaches tap 'squash'") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(unknown_taps_are_named) {
  Every net(1);
  Trainer<Every, SoftmaxCrossEntropy<>, 2> t(net);
  try {
    (void)t.tap("relu");
    BOOST_FAIL("an unknown name must throw");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()) ==
               "tapeless::Trainer::tap: no tap is named 'relu'; the network's taps are '1', '2.block.1'");
  }
  BOOST_CHECK_THROW((void)t.tap(2), std::out_of_range);
  BOOST_CHECK_THROW(t.on_tap("relu", [](const TapView<double>&) {}), std::invalid_argument);
  Plain plain(1);
  Trainer<Plain, SoftmaxCrossEntropy<>, 2> tp(plain);
  static_assert(decltype(tp)::tap_count() == 0);
  try {
    (void)tp.tap("1");
    BOOST_FAIL("a network without taps must say so");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("the network has none") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(a_run_time_batch_resizes_the_views) {
  Every net(1);
  Trainer<Every, SoftmaxCrossEntropy<>> t(net, 4);
  fill(t, 5);
  BOOST_REQUIRE(t.compute().ok());
  BOOST_TEST(t.tap("1").value().rows() == 4);
  t.inputs().resize(9);
  t.targets().resize(9);
  fill(t, 6);
  BOOST_REQUIRE(t.compute().ok());
  BOOST_TEST(t.tap("1").value().rows() == 9);
  BOOST_TEST(t.tap("1").gradient().rows() == 9);
  BOOST_TEST(t.tap("1").summary().count == 9 * 6);
}
