// network/trainer.hpp: the generated backward pass of whole networks against central finite
// differences and the textbook hand-written backward pass; 100 SGD steps against a hand-written
// training loop; a non-finite step leaves the weights as they were.
#define BOOST_TEST_MODULE network_trainer
#include "tapeless/network/trainer.hpp"

#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/mse.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/predictor.hpp"
#include "tapeless/optim/adam.hpp"
#include "tapeless/optim/sgd.hpp"

#include "support/check.hpp"
#include "support/optimizer_state.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

using namespace tapeless;

namespace {
// Checks every parameter's gradient of Loss(net(x), y) against central differences (double).
template <class Net, class Loss, class X, class Y>
void check_network(Net& net, const X& x, const Y& y) {
  auto loss = Loss::apply(net.forward(input(x)), y);
  std::apply([&](auto&... p) { test::check_gradients(loss, p...); }, net.params().refs());
}

template <class Layers, class Loss, int Batch = 5>
void finite_differences(unsigned seed) {
  using Net = Network<Layers, double>;
  Net net(seed, Init::xavier);
  net.values() *= 2.0;  // away from the flat middle of sigmoid/tanh
  Tensor<double, Batch, Net::in> x;
  test::randomize(x);
  typename Loss::template target_type<double, Batch, Net::out> y;
  if constexpr (std::is_same_v<typename decltype(y)::scalar_type, int>) {
    for (Index i = 0; i < Batch; ++i) y(i, 0) = static_cast<int>(i % Net::out);
  } else {
    test::randomize(y, 0.0, 1.0);
  }
  check_network<Net, Loss>(net, x, y);
}
}  // namespace

BOOST_AUTO_TEST_CASE(every_layer_and_loss_under_finite_differences) {
  using Sce = SoftmaxCrossEntropy<>;
  using SceOneHot = SoftmaxCrossEntropy<Targets::one_hot>;
  finite_differences<Sequential<Linear<3, 4>, ReLU, Linear<4, 2>>, Sce>(1);
  finite_differences<Sequential<Linear<3, 4>, Sigmoid, Linear<4, 3>>, SceOneHot>(2);
  finite_differences<Sequential<Linear<3, 4>, Tanh, Linear<4, 4>, Sigmoid, Linear<4, 2>>, MSE>(3);
  finite_differences<Sequential<Linear<3, 4>, Residual<Sequential<Linear<4, 4>, Tanh>>, Linear<4, 3>, Softmax>, MSE>(4);
  finite_differences<
      Sequential<Linear<3, 5>, ReLU, Residual<Sequential<Linear<5, 5>, ReLU, Linear<5, 5>>>, Linear<5, 2>>, Sce>(5);
}

namespace {
using Mlp = Sequential<Linear<6, 10>, ReLU, Linear<10, 4>>;

// The reference notes' two-layer backward pass, by hand (001: manual_backward).
template <class S>
struct HandWritten {
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  M w1, b1, w2, b2, dw1, db1, dw2, db2;
  S loss = 0;
  void backward(const M& x, const Eigen::VectorXi& labels) {
    const Index n = x.rows();
    const M z1 = (x * w1).rowwise() + b1.row(0);
    const M a1 = z1.cwiseMax(S(0));
    const M z2 = (a1 * w2).rowwise() + b2.row(0);
    M dz2(n, z2.cols());
    loss = 0;
    for (Index i = 0; i < n; ++i) {
      const S m = z2.row(i).maxCoeff();
      dz2.row(i) = (z2.row(i).array() - m).exp().matrix();
      const S s = dz2.row(i).sum();
      dz2.row(i) /= s;
      loss -= std::log(dz2(i, labels(i)));
      dz2(i, labels(i)) -= 1;
    }
    loss /= static_cast<S>(n);
    dz2 /= static_cast<S>(n);
    dw2 = a1.transpose() * dz2;
    db2 = dz2.colwise().sum();
    const M dz1 = (dz2 * w2.transpose()).cwiseProduct((z1.array() > 0).template cast<S>().matrix());
    dw1 = x.transpose() * dz1;
    db1 = dz1.colwise().sum();
  }
  void sgd(S lr) {
    w1 -= lr * dw1;
    b1 -= lr * db1;
    w2 -= lr * dw2;
    b2 -= lr * db2;
  }
};

template <class S, class Net>
HandWritten<S> copy_of(Net& net) {
  HandWritten<S> h;
  h.w1 = net.parameter("0.weight");
  h.b1 = net.parameter("0.bias");
  h.w2 = net.parameter("2.weight");
  h.b2 = net.parameter("2.bias");
  return h;
}
}  // namespace

BOOST_AUTO_TEST_CASE(gradients_equal_the_hand_written_backward_pass) {
  Network<Mlp, double> net(11);
  Trainer<Network<Mlp, double>, SoftmaxCrossEntropy<>> trainer(net, 7);
  test::randomize(trainer.inputs());
  Eigen::VectorXi labels(7);
  for (Index i = 0; i < 7; ++i) labels(i) = trainer.targets()(i, 0) = static_cast<int>((3 * i) % 4);
  auto hand = copy_of<double>(net);
  hand.backward(trainer.inputs().value(), labels);
  const StepResult r = trainer.compute();
  BOOST_TEST(r.loss == hand.loss, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(((net.gradient("0.weight") - hand.dw1).norm() < 1e-12));
  BOOST_TEST(((net.gradient("0.bias") - hand.db1).norm() < 1e-12));
  BOOST_TEST(((net.gradient("2.weight") - hand.dw2).norm() < 1e-12));
  BOOST_TEST(((net.gradient("2.bias") - hand.db2).norm() < 1e-12));
}

BOOST_AUTO_TEST_CASE(hundred_sgd_steps_match_the_hand_written_loop_in_float) {
  Network<Mlp, float> net(5);
  Trainer<Network<Mlp, float>, SoftmaxCrossEntropy<>, 16> trainer(net);
  Sgd sgd(net, {.lr = 0.1});
  auto hand = copy_of<float>(net);
  const Eigen::VectorXf initial = net.values();
  Rng data(99);
  Eigen::VectorXi labels(16);
  for (int step = 0; step < 100; ++step) {
    for (Index i = 0; i < 16; ++i) {
      for (Index j = 0; j < 6; ++j) trainer.inputs()(i, j) = static_cast<float>(data.uniform(-1, 1));
      labels(i) = trainer.targets()(i, 0) = static_cast<int>(data.below(4));
    }
    BOOST_TEST_REQUIRE(trainer.step(sgd).ok());
    hand.backward(trainer.inputs().value(), labels);
    hand.sgd(0.1f);
  }
  const double worst = std::max({(net.parameter("0.weight") - hand.w1).cwiseAbs().maxCoeff(),
                                 (net.parameter("0.bias") - hand.b1).cwiseAbs().maxCoeff(),
                                 (net.parameter("2.weight") - hand.w2).cwiseAbs().maxCoeff(),
                                 (net.parameter("2.bias") - hand.b2).cwiseAbs().maxCoeff()});
  BOOST_TEST(worst <= 1e-5);
  BOOST_TEST((net.values() - initial).norm() > 0.5);  // the weights travelled far: the match means something
}

BOOST_AUTO_TEST_CASE(non_finite_step_leaves_the_weights_untouched) {
  Network<Mlp, float> net(1);
  Trainer<Network<Mlp, float>, SoftmaxCrossEntropy<>> trainer(net, 4);
  Sgd sgd(net);
  trainer.inputs().value().setOnes();
  trainer.inputs()(2, 3) = std::numeric_limits<float>::quiet_NaN();
  const Eigen::VectorXf before = net.values();
  const StepResult r = trainer.step(sgd);
  BOOST_TEST(!r.ok());
  BOOST_TEST((r.status == StepResult::Status::non_finite_loss));
  BOOST_TEST(r.parameter == -1);
  BOOST_TEST(trainer.explain(r).starts_with("the loss is "));
  BOOST_TEST(trainer.explain(r).find("nan") != std::string::npos, trainer.explain(r));
  BOOST_TEST((net.values().array() == before.array()).all());  // bit for bit
  trainer.inputs()(2, 3) = 0;
  BOOST_TEST(trainer.step(sgd).ok());
  BOOST_TEST(!(net.values() == before));
}

namespace {
using test::optimizer_state;
// One step of `optimizer` on a float network whose every weight gradient is finite but whose
// update is not: weights, gradients aside, and the optimizer's state must stay bit for bit.
template <class MakeOptimizer>
void expect_refused_update(MakeOptimizer make, StepResult::Status expected) {
  Network<Mlp, float> net(1);
  Trainer<Network<Mlp, float>, SoftmaxCrossEntropy<>> trainer(net, 4);
  auto optimizer = make(net);
  // huge activations: finite loss and gradients of about 1e21 or more, whose (1 - beta2) g^2 is not
  trainer.inputs().value().setConstant(1e22f);
  for (Index r = 0; r < 4; ++r) trainer.targets()(r, 0) = static_cast<int>(r % 3);
  const Eigen::VectorXf before = net.values();
  const auto state_before = optimizer_state(optimizer);
  const StepResult r = trainer.step(optimizer);
  BOOST_TEST(!r.ok());
  BOOST_TEST((r.status == expected), "status " << static_cast<int>(r.status));
  BOOST_TEST((net.values().array() == before.array()).all());  // bit for bit
  BOOST_TEST((optimizer_state(optimizer) == state_before));
}
}  // namespace

BOOST_AUTO_TEST_CASE(an_update_that_would_overflow_is_refused_and_changes_nothing) {
  // Finite gradients, finite options, but w - lr g overflows float: the guard checks the update,
  // not only the gradients.
  expect_refused_update([](auto& net) { return Sgd(net, {.lr = 1e30}); }, StepResult::Status::non_finite_update);
  expect_refused_update([](auto& net) { return Sgd(net, {.lr = 1e30, .momentum = 0.9}); },
                        StepResult::Status::non_finite_update);
  // Adam's update is bounded by lr, but its second moment's term (1 - beta2) g^2 overflows:
  // refused too (else v would hold inf and that weight would never move again).
  expect_refused_update([](auto& net) { return Adam(net, {.lr = 1e-3}); }, StepResult::Status::non_finite_update);
}

BOOST_AUTO_TEST_CASE(a_refused_adam_step_changes_no_weight_and_no_state) {
  Network<Mlp, double> net(1);
  Trainer<Network<Mlp, double>, SoftmaxCrossEntropy<>> trainer(net, 2);
  Adam adam(net);
  trainer.inputs().value().setOnes();
  trainer.inputs()(0, 0) = 1e308;  // logits overflow to inf in the backward pass only
  trainer.inputs()(1, 0) = -1e308;
  const Eigen::VectorXd before = net.values();
  const StepResult r = trainer.step(adam);
  BOOST_TEST(!r.ok());
  BOOST_TEST((net.values().array() == before.array()).all());
  BOOST_TEST(adam.step_count() == 0);
}

namespace {
// sqrt|z|: finite everywhere, but its derivative sign(z) / (2 sqrt|z|) is infinite at 0. A net
// through it at z = 0 has a finite loss and non-finite gradients before it, none after it.
struct SqrtAbs {
  template <class X>
  auto value(const X& x) const {
    return x.abs().sqrt();
  }
  template <class X, class Y>
  auto derivative(const X& x, const Y& y) const {
    return x.sign() / (2 * y);
  }
};
using Singular = Network<Sequential<Linear<3, 4>, ReLU, Linear<4, 2>, SqrtAbs, Linear<2, 3>>, double>;
}  // namespace

BOOST_AUTO_TEST_CASE(a_non_finite_gradient_is_located) {
  Singular net(4);
  net.parameter("2.weight").setZero();  // so layer 3's input is its bias, 0: infinite derivative
  Trainer<Singular, SoftmaxCrossEntropy<>, 2> trainer(net);
  test::randomize(trainer.inputs());
  trainer.targets()(0, 0) = 0;
  trainer.targets()(1, 0) = 2;
  Sgd sgd(net);
  const Eigen::VectorXd before = net.values();
  const StepResult computed = trainer.compute();
  const std::string text = trainer.explain(computed);
  BOOST_TEST_MESSAGE(text);
  const StepResult stepped = trainer.step(sgd);
  const StepResult clipped = trainer.step(sgd, {.max_norm = 1});  // checked before clipping
  const auto& info = net.parameters();
  std::size_t first = info.size();  // the first parameter whose gradient is not finite
  for (std::size_t k = info.size(); k-- > 0;)
    if (!net.gradient(k).allFinite()) first = k;
  BOOST_TEST_REQUIRE(first < info.size());
  BOOST_TEST(net.gradient("4.weight").allFinite());  // after the singular layer: finite
  for (const StepResult& r : {computed, stepped, clipped}) {
    BOOST_TEST(std::isfinite(r.loss));
    BOOST_TEST((r.status == StepResult::Status::non_finite_gradient));
    BOOST_TEST(r.parameter == static_cast<int>(first));
  }
  BOOST_TEST((net.values().array() == before.array()).all());
  Index i = 0, j = 0;
  BOOST_TEST_REQUIRE(text.starts_with("the gradient of " + info[first].name + " holds "), text);
  BOOST_TEST_REQUIRE(std::sscanf(text.c_str() + text.find(" at (") + 5, "%td, %td)", &i, &j) == 2, text);
  BOOST_TEST(!std::isfinite(net.gradient(first)(i, j)), text);
  BOOST_TEST(trainer.explain(StepResult{}) == "the step was finite");
}

// ---- the update fused at one row (Trainer::step with Sgd without momentum, detail/outer_update.hpp)

namespace {
// Sgd that counts its fused checks: whether a step took the one-row path.
template <class S>
struct CountingSgd : Sgd<S> {
  using Sgd<S>::Sgd;
  mutable int checks = 0;
  bool check_outer(const typename Sgd<S>::Plan& p, const detail::outer_weight<S>* w, std::size_t n) const {
    ++checks;
    return Sgd<S>::check_outer(p, w, n);
  }
};
// 4,563 parameters (Sgd fuses from 4,096): 3 inputs (fewer than a packet), columns of 40 and 100
// (tails), a bias of 3 (shorter than a packet)
using Fused = Network<Sequential<Linear<3, 40>, ReLU, Linear<40, 100>, Tanh, Linear<100, 3>>, float>;
static_assert(Fused::parameter_size >= Sgd<float>::fused_outer_minimum);

template <class S>
bool same_bits(const Eigen::Matrix<S, Eigen::Dynamic, 1>& a, const Eigen::Matrix<S, Eigen::Dynamic, 1>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(S) * static_cast<std::size_t>(a.size())) == 0;
}

// What step() does without fusing: compute(), then, if that was finite, Sgd's update.
template <class T, class Net>
StepResult compute_then_update(T& trainer, Net& net, Sgd<typename Net::scalar_type>& sgd) {
  StepResult r = trainer.compute();
  if (r.ok() && !sgd.update(net)) r.status = StepResult::Status::non_finite_update;
  return r;
}

// `a` stepped through `ta` (fused), `b` the same way unfused: weights, gradients and what the
// steps report, bit for bit.
template <class Net, class TA, class TB>
void expect_same_step(Net& a, TA& ta, CountingSgd<typename Net::scalar_type>& sa, Net& b, TB& tb,
                      Sgd<typename Net::scalar_type>& sb, const std::string& what, int checked = 1) {
  const int checks = sa.checks;
  const StepResult ra = ta.step(sa);
  const StepResult rb = compute_then_update(tb, b, sb);
  BOOST_TEST(sa.checks == checks + checked, what << ": the fused path (a non-finite loss needs no check)");
  BOOST_TEST(same_bits(a.values(), b.values()), what << ": weights");
  BOOST_TEST(same_bits(a.gradients(), b.gradients()), what << ": gradients");
  BOOST_TEST((ra.status == rb.status),
             what << ": status " << static_cast<int>(ra.status) << " against " << static_cast<int>(rb.status));
  BOOST_TEST(ra.parameter == rb.parameter, what);
  BOOST_TEST(std::memcmp(&ra.loss, &rb.loss, sizeof ra.loss) == 0, what << ": loss");
}

template <int Batch>
void fused_steps_equal_compute_then_update(SgdOptions options) {
  Fused a(5), b(5);
  Trainer<Fused, SoftmaxCrossEntropy<>, Batch> ta(a), tb(b);
  CountingSgd<float> sa(a, options);
  Sgd<float> sb(b, options);
  for (unsigned step = 0; step < 10; ++step) {
    test::randomize(ta.inputs(), -2.0, 2.0);
    tb.inputs().value() = ta.inputs().value();
    ta.targets()(0, 0) = tb.targets()(0, 0) = static_cast<int>(step % 3);
    expect_same_step(a, ta, sa, b, tb, sb, "batch " + std::to_string(Batch) + ", step " + std::to_string(step));
  }
  BOOST_TEST(!same_bits(a.values(), Fused(5).values()));  // it trained
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_step_at_one_row_fuses_the_update_with_the_bits_of_compute_then_update) {
  fused_steps_equal_compute_then_update<1>({.lr = 0.1});
  fused_steps_equal_compute_then_update<1>({.lr = 0.05, .weight_decay = 0.01});
  fused_steps_equal_compute_then_update<dynamic>({.lr = 0.1, .weight_decay = 0.001});
}

BOOST_AUTO_TEST_CASE(a_fused_step_that_is_not_finite_changes_no_weight_and_leaves_the_gradients) {
  // an update that would overflow (finite loss and gradients), then a NaN input (the loss)
  using FusedRelu = Network<Sequential<Linear<3, 40>, ReLU, Linear<40, 100>, ReLU, Linear<100, 3>>, float>;
  static_assert(FusedRelu::parameter_size >= Sgd<float>::fused_outer_minimum);
  for (const bool nan_input : {false, true}) {
    FusedRelu a(6), b(6);
    Trainer<FusedRelu, SoftmaxCrossEntropy<>, 1> ta(a), tb(b);
    CountingSgd<float> sa(a, {.lr = 1e30});
    Sgd<float> sb(b, {.lr = 1e30});
    // inputs of 1e10 through ReLUs: first-layer gradients of about 1e10 (the label is not the
    // largest logit, so softmax's gradient is not 0), an update of about 1e40
    ta.inputs().value().setConstant(1e10f);
    tb.inputs().value().setConstant(1e10f);
    Index largest = 0;
    ta.infer().row(0).maxCoeff(&largest);
    ta.targets()(0, 0) = tb.targets()(0, 0) = static_cast<int>((largest + 1) % 3);
    if (nan_input) ta.inputs()(0, 1) = tb.inputs()(0, 1) = std::numeric_limits<float>::quiet_NaN();
    const Eigen::VectorXf before = a.values();
    expect_same_step(a, ta, sa, b, tb, sb, nan_input ? "nan input" : "overflow", nan_input ? 0 : 1);
    BOOST_TEST(same_bits(a.values(), before));
    const StepResult r = ta.step(sa);
    BOOST_TEST((r.status == (nan_input ? StepResult::Status::non_finite_loss : StepResult::Status::non_finite_update)));
    BOOST_TEST(ta.explain(r).starts_with(nan_input ? "the loss is " : "the gradients are finite, but the update"),
               ta.explain(r));
  }
  // a finite loss whose gradients are not (sqrt|z| at 0), in double
  using SingularFused = Network<Sequential<Linear<3, 64>, ReLU, Linear<64, 60>, SqrtAbs, Linear<60, 3>>, double>;
  static_assert(SingularFused::parameter_size >= Sgd<double>::fused_outer_minimum);
  SingularFused a(4), b(4);
  a.parameter("2.weight").setZero();
  b.parameter("2.weight").setZero();
  Trainer<SingularFused, SoftmaxCrossEntropy<>, 1> ta(a), tb(b);
  CountingSgd<double> sa(a);
  Sgd<double> sb(b);
  test::randomize(ta.inputs());
  tb.inputs().value() = ta.inputs().value();
  const Eigen::VectorXd before = a.values();
  expect_same_step(a, ta, sa, b, tb, sb, "singular");
  BOOST_TEST(same_bits(a.values(), before));
  const StepResult r = ta.step(sa);
  BOOST_TEST((r.status == StepResult::Status::non_finite_gradient));
  BOOST_TEST(ta.explain(r).starts_with("the gradient of " + a.parameters()[static_cast<std::size_t>(r.parameter)].name),
             ta.explain(r));
}

BOOST_AUTO_TEST_CASE(the_update_is_fused_only_at_one_row_without_momentum_clipping_or_few_parameters) {
  Fused net(7);
  CountingSgd<float> plain(net), momentum(net, {.momentum = 0.9});
  Trainer<Fused, SoftmaxCrossEntropy<>, 1> one(net);
  Trainer<Fused, SoftmaxCrossEntropy<>> two(net, 2);
  test::randomize(one.inputs());
  test::randomize(two.inputs());
  BOOST_TEST(one.step(plain).ok());
  BOOST_TEST(plain.checks == 1);
  // backward writes every gradient again after a fused step (the deferral lasts one backward)
  one.targets()(0, 0) = 2;
  BOOST_TEST(one.compute().ok());
  const Eigen::VectorXf computed = net.gradients();
  Trainer<Fused, SoftmaxCrossEntropy<>, 1> fresh(net);
  fresh.inputs().value() = one.inputs().value();
  fresh.targets()(0, 0) = 2;
  BOOST_TEST(fresh.compute().ok());
  BOOST_TEST(same_bits(computed, net.gradients()));
  BOOST_TEST(one.step(plain, {.max_norm = 1}).ok());
  BOOST_TEST(one.step(momentum).ok());
  BOOST_TEST(two.step(plain).ok());
  BOOST_TEST((plain.checks == 1 && momentum.checks == 0));
  two.inputs().resize(1);  // a run-time batch of one row: fused
  two.targets().resize(1);
  two.targets()(0, 0) = 1;
  test::randomize(two.inputs());
  BOOST_TEST(two.step(plain).ok());
  BOOST_TEST(plain.checks == 2);
  Network<Mlp, float> small(7);  // fewer parameters than Sgd fuses for
  static_assert(Network<Mlp, float>::parameter_size < Sgd<float>::fused_outer_minimum);
  Trainer<Network<Mlp, float>, SoftmaxCrossEntropy<>, 1> small_trainer(small);
  CountingSgd<float> small_sgd(small);
  test::randomize(small_trainer.inputs());
  BOOST_TEST(small_trainer.step(small_sgd).ok());
  BOOST_TEST(small_sgd.checks == 0);
}

BOOST_AUTO_TEST_CASE(inference_is_the_forward_pass) {
  Network<Mlp, double> net(8);
  Trainer<Network<Mlp, double>, SoftmaxCrossEntropy<>> trainer(net, 3);
  test::randomize(trainer.inputs());
  const Eigen::MatrixXd expect = eval(net.forward(input(trainer.inputs())));
  BOOST_TEST(((trainer.infer() - expect).norm() == 0.0));
}

BOOST_AUTO_TEST_CASE(output_is_the_logits_the_step_took_its_loss_on) {
  Network<Mlp, double> net(8);
  Trainer<Network<Mlp, double>, SoftmaxCrossEntropy<>> trainer(net, 3);
  test::randomize(trainer.inputs());
  for (Index i = 0; i < 3; ++i) trainer.targets()(i, 0) = static_cast<int>(i);
  const Eigen::MatrixXd before = eval(net.forward(input(trainer.inputs())));  // the weights before the step
  Sgd sgd(net, {.lr = 0.5});
  BOOST_TEST_REQUIRE(trainer.step(sgd).ok());
  BOOST_TEST(((trainer.output() - before).norm() == 0.0));
  BOOST_TEST(((trainer.infer() - before).norm() > 1e-3));            // the update moved them: the test can tell
  BOOST_TEST(((trainer.output() - trainer.infer()).norm() == 0.0));  // and infer() refreshes it
}

BOOST_AUTO_TEST_CASE(three_layer_sigmoid_mlp_matches_the_notes_backward_pass) {
  // Reference notes (000, BackwardPassDemo): sigmoid hidden layers, softmax + CE on one-hot rows.
  using Layers = Sequential<Linear<6, 8>, Sigmoid, Linear<8, 5>, Sigmoid, Linear<5, 3>>;
  using Net = Network<Layers, double>;
  Net net(21, Init::xavier);
  Trainer<Net, SoftmaxCrossEntropy<Targets::one_hot>, 4> trainer(net);
  test::randomize(trainer.inputs());
  for (Index i = 0; i < 4; ++i) trainer.targets()(i, i % 3) = 1;
  const StepResult r = trainer.compute();

  using M = Eigen::MatrixXd;
  const M x = trainer.inputs().value(), y = trainer.targets().value();
  const M w1 = net.parameter("0.weight"), b1 = net.parameter("0.bias"), w2 = net.parameter("2.weight"),
          b2 = net.parameter("2.bias"), w3 = net.parameter("4.weight"), b3 = net.parameter("4.bias");
  auto sigmoid = [](const M& z) { return M((1.0 + (-z.array()).exp()).inverse()); };
  const M a1 = sigmoid((x * w1).rowwise() + b1.row(0));
  const M a2 = sigmoid((a1 * w2).rowwise() + b2.row(0));
  const M z3 = (a2 * w3).rowwise() + b3.row(0);
  M y_hat = z3;
  for (Index i = 0; i < 4; ++i)
    y_hat.row(i) =
        (z3.row(i).array() - z3.row(i).maxCoeff()).exp() / (z3.row(i).array() - z3.row(i).maxCoeff()).exp().sum();
  const double loss = -(y.array() * y_hat.array().log()).rowwise().sum().mean();
  const M dz3 = (y_hat - y) / 4.0;
  const M dw3 = a2.transpose() * dz3, db3 = dz3.colwise().sum();
  const M dz2 = ((dz3 * w3.transpose()).array() * a2.array() * (1 - a2.array())).matrix();
  const M dw2 = a1.transpose() * dz2, db2 = dz2.colwise().sum();
  const M dz1 = ((dz2 * w2.transpose()).array() * a1.array() * (1 - a1.array())).matrix();
  const M dw1 = x.transpose() * dz1, db1 = dz1.colwise().sum();

  BOOST_TEST(r.loss == loss, boost::test_tools::tolerance(1e-12));
  const std::pair<const char*, const M*> expected[] = {{"0.weight", &dw1}, {"0.bias", &db1},   {"2.weight", &dw2},
                                                       {"2.bias", &db2},   {"4.weight", &dw3}, {"4.bias", &db3}};
  for (const auto& [name, grad] : expected)
    BOOST_TEST(((net.gradient(name) - *grad).norm() <= 1e-12 * (1 + grad->norm())), name);
}

BOOST_AUTO_TEST_CASE(tanh_net_with_mse_matches_hand_written_backprop) {
  using Net = Network<Sequential<Linear<3, 6>, Tanh, Linear<6, 2>>, double>;
  Net net(8, Init::xavier);
  Trainer<Net, MSE> trainer(net, 5);
  test::randomize(trainer.inputs());
  test::randomize(trainer.targets());
  const StepResult r = trainer.compute();
  using M = Eigen::MatrixXd;
  const M x = trainer.inputs().value(), t = trainer.targets().value();
  const M w1 = net.parameter("0.weight"), b1 = net.parameter("0.bias"), w2 = net.parameter("2.weight"),
          b2 = net.parameter("2.bias");
  const M a1 = ((x * w1).rowwise() + b1.row(0)).array().tanh().matrix();
  const M p = (a1 * w2).rowwise() + b2.row(0);
  const M dp = 2.0 * (p - t) / static_cast<double>(p.size());
  const M dz1 = ((dp * w2.transpose()).array() * (1 - a1.array().square())).matrix();
  BOOST_TEST(r.loss == (p - t).squaredNorm() / static_cast<double>(p.size()), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(((net.gradient("2.weight") - a1.transpose() * dp).norm() < 1e-12));
  BOOST_TEST(((net.gradient("2.bias") - M(dp.colwise().sum())).norm() < 1e-12));
  BOOST_TEST(((net.gradient("0.weight") - x.transpose() * dz1).norm() < 1e-12));
  BOOST_TEST(((net.gradient("0.bias") - M(dz1.colwise().sum())).norm() < 1e-12));
}

BOOST_AUTO_TEST_CASE(trainers_and_predictors_move_with_their_batch) {
  using Net = Network<Mlp, float>;
  using Train = Trainer<Net, SoftmaxCrossEntropy<>, 16>;
  static_assert(std::is_nothrow_move_constructible_v<Train> && std::is_nothrow_move_assignable_v<Train>);
  static_assert(std::is_nothrow_move_constructible_v<Predictor<Net, 16>>);
  static_assert(!std::is_copy_constructible_v<Train> && !std::is_copy_constructible_v<Predictor<Net, 16>>);
  Net a(5), b(5);
  Train reference(a);
  std::vector<Train> trainers;
  trainers.emplace_back(b);
  Rng data(3);
  for (Index i = 0; i < 16; ++i) {
    for (Index j = 0; j < 6; ++j)
      reference.inputs()(i, j) = trainers[0].inputs()(i, j) = static_cast<float>(data.uniform(-1, 1));
    reference.targets()(i, 0) = trainers[0].targets()(i, 0) = static_cast<int>(data.below(4));
  }
  trainers.reserve(8);  // reallocates: the trainer moves, with the batch it holds
  Sgd sgd_a(a, {.lr = 0.1}), sgd_b(b, {.lr = 0.1});
  BOOST_TEST_REQUIRE(reference.step(sgd_a).ok());
  BOOST_TEST_REQUIRE(trainers[0].step(sgd_b).ok());
  BOOST_TEST((a.values() == b.values()));
  Train assigned(a);
  assigned = std::move(trainers[0]);  // trains b again, with the moved batch
  BOOST_TEST_REQUIRE(assigned.step(sgd_b).ok());
  BOOST_TEST_REQUIRE(reference.step(sgd_a).ok());
  BOOST_TEST((a.values() == b.values()));
  Predictor<Net, 16> first(a);
  first.inputs() = reference.inputs().value();
  Predictor<Net, 16> moved(std::move(first));
  const Eigen::MatrixXf expected = reference.infer();
  BOOST_TEST((moved() == expected));
}

BOOST_AUTO_TEST_CASE(evaluate_a_data_set_in_fixed_batches_as_in_one_pass) {
  Network<Mlp, float> net(6);
  Rng data(8);
  const Index n = 37;  // two batches of 16 and a partial one of 5
  Eigen::MatrixXf x(n, 6);
  Eigen::VectorXi labels(n);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < 6; ++j) x(i, j) = static_cast<float>(data.uniform(-2, 2));
    labels(i) = static_cast<int>(data.below(4));
  }
  // one pass over all rows, with a run-time batch of 37
  Trainer<Network<Mlp, float>, SoftmaxCrossEntropy<>> whole(net, n);
  whole.inputs() = x;
  for (Index i = 0; i < n; ++i) whole.targets()(i, 0) = labels(i);
  const double loss = whole.compute().loss;
  const Eigen::MatrixXf logits = whole.infer();
  Index hits = 0;
  for (Index i = 0; i < n; ++i) {
    Index best = 0;
    logits.row(i).maxCoeff(&best);
    hits += best == labels(i);
  }
  Trainer<Network<Mlp, float>, SoftmaxCrossEntropy<>, 16> batched(net);
  BOOST_TEST_REQUIRE(batched.compute().ok());  // some gradients to leave alone
  const Eigen::VectorXf weights = net.values(), gradients = net.gradients();
  const Evaluation e = batched.evaluate(x, labels);
  BOOST_TEST(e.rows == n);
  BOOST_TEST(e.loss == loss, boost::test_tools::tolerance(1e-5));
  BOOST_TEST(e.accuracy == static_cast<double>(hits) / n);
  BOOST_TEST(hits > 0);
  BOOST_TEST((net.values() == weights));  // forward passes only
  BOOST_TEST((net.gradients() == gradients));
  BOOST_CHECK_THROW(batched.evaluate(Eigen::MatrixXf(n, 5), labels), shape_error);
  BOOST_CHECK_THROW(batched.evaluate(x, Eigen::VectorXi(n - 1)), shape_error);
  BOOST_CHECK_THROW(batched.evaluate(Eigen::MatrixXf(0, 6), Eigen::VectorXi(0)), std::invalid_argument);
  // MSE has no accuracy: NaN
  using Reg = Network<Sequential<Linear<3, 6>, Tanh, Linear<6, 2>>, double>;
  Reg reg(8, Init::xavier);
  Trainer<Reg, MSE> mse(reg, 5);
  const Eigen::MatrixXd rx = Eigen::MatrixXd::Random(5, 3), ry = Eigen::MatrixXd::Random(5, 2);
  mse.inputs() = rx;
  mse.targets() = ry;
  const double expected = mse.compute().loss;
  Trainer<Reg, MSE> small(reg, 2);  // 2 + 2 + a partial batch of 1
  const Evaluation m = small.evaluate(rx, ry);
  BOOST_TEST(m.loss == expected, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(std::isnan(m.accuracy));
}

BOOST_AUTO_TEST_CASE(predict_one_row_on_a_batch_1_predictor) {
  Network<Mlp, float> net(7);
  Trainer<Network<Mlp, float>, SoftmaxCrossEntropy<>> trainer(net, 3);
  test::randomize(trainer.inputs());
  const Eigen::MatrixXf expected = trainer.infer();
  Predictor<Network<Mlp, float>, 1> one(net);
  for (Index i = 0; i < 3; ++i) {
    const Eigen::RowVectorXf row = trainer.inputs().value().row(i);
    const Eigen::RowVectorXf y = one.predict(row);
    BOOST_TEST(y.size() == 4);
    BOOST_TEST(((y - expected.row(i)).norm() <= 1e-5f * (1 + expected.row(i).norm())));
    const Eigen::VectorXf column = row.transpose();  // a column vector reads the same
    BOOST_TEST((Eigen::RowVectorXf(one.predict(column)) == y));
    const Eigen::MatrixXf dynamic_row = row;  // a run-time 1 x 6 matrix too
    BOOST_TEST((Eigen::RowVectorXf(one.predict(dynamic_row)) == y));
  }
  BOOST_CHECK_THROW(one.predict(Eigen::RowVectorXf(5)), shape_error);
  BOOST_CHECK_THROW(one.predict(Eigen::MatrixXf(2, 6)), shape_error);
}
