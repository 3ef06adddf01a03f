// network/precision.hpp: mixed precision. A Mixed<H> step computes what its definition says (a
// small net worked by hand with every kept value and passed adjoint rounded to H); layers that
// share one program and keep H copies give the same bits as layers with programs of their own;
// the activation bytes are what the type says; dynamic loss scaling rescues gradients that
// binary16 would flush to zero, skips an overflowing step without touching the weights, backs
// off and grows; checkpoints and ParallelTrainer under bfloat16.
#define BOOST_TEST_MODULE network_precision
#include "tapeless/network/precision.hpp"

#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/checkpoint.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/mse.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/parallel_trainer.hpp"
#include "tapeless/network/trainer.hpp"
#include "tapeless/optim/adam.hpp"
#include "tapeless/optim/sgd.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <ratio>

using namespace tapeless;

namespace {
using BF16 = Mixed<Eigen::bfloat16>;
using F16 = Mixed<Eigen::half>;

template <class Train>
void fill(Train& t, unsigned seed, double scale = 1) {
  Rng rng(seed);
  for (Index i = 0; i < t.inputs().rows(); ++i) {
    for (Index j = 0; j < t.inputs().cols(); ++j) t.inputs()(i, j) = static_cast<float>(scale * rng.normal());
    for (Index j = 0; j < t.targets().cols(); ++j) {
      if constexpr (std::is_integral_v<typename std::remove_cvref_t<decltype(t.targets())>::scalar_type>)
        t.targets()(i, j) = static_cast<int>(i % 3);
      else
        t.targets()(i, j) = static_cast<float>(rng.normal());
    }
  }
}

template <class A, class B>
bool same_bits(const A& a, const B& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && (a.array() == b.array()).all();
}

/// m rounded to H, coefficient by coefficient (Eigen's own conversion).
template <class H>
Eigen::MatrixXf rounded(const Eigen::MatrixXf& m) {
  return m.unaryExpr([](float v) { return static_cast<float>(H(v)); });
}

template <class H>
bool all_in(const Eigen::MatrixXf& m) {
  return same_bits(m, rounded<H>(m));
}

double relative(const Eigen::MatrixXf& a, const Eigen::MatrixXf& b) {
  return static_cast<double>((a - b).norm() / std::max(b.norm(), 1e-30f));
}
}  // namespace

// Sequential<Linear<3, 5>, Tanh, Linear<5, 2>> with MSE, under Mixed<H>, against the definition:
// z1 = H(x W1 + b1), a1 = H(tanh z1), z2 = H(a1 W2 + b2), loss = mean((z2 - y)^2) in float;
// g2 = H(dloss/dz2); dW2 = a1^T g2, db2 = sum g2; ga1 = H(g2 W2^T); gz1 = H(ga1 (1 - a1^2));
// dW1 = x^T gz1, db1 = sum gz1 (the first layer's input needs no adjoint).
template <class H>
void check_by_hand() {
  using Net = Network<Sequential<Linear<3, 5>, Tanh, Linear<5, 2>>>;
  using P = Mixed<H>;
  Net net(3);
  Trainer<Net, MSE, 4, P> trainer(net);
  if constexpr (P::scaled) trainer.loss_scale().scale = 1;  // the definition, unscaled
  fill(trainer, 7);
  const StepResult r = trainer.compute();
  BOOST_REQUIRE(r.ok());

  const Eigen::MatrixXf x = trainer.inputs().value(), y = trainer.targets().value();
  const Eigen::MatrixXf w1 = net.parameter("0.weight"), w2 = net.parameter("2.weight");  // In x Out
  const Eigen::RowVectorXf b1 = net.parameter("0.bias"), b2 = net.parameter("2.bias");
  const Eigen::MatrixXf z1 = rounded<H>((x * w1).rowwise() + b1);
  const Eigen::MatrixXf a1 = rounded<H>(z1.array().tanh().matrix());
  const Eigen::MatrixXf z2 = rounded<H>((a1 * w2).rowwise() + b2);
  const float n = static_cast<float>(z2.size());
  const double loss = static_cast<double>((z2 - y).squaredNorm() / n);
  const Eigen::MatrixXf g2 = rounded<H>(2.0f / n * (z2 - y));
  const Eigen::MatrixXf ga1 = rounded<H>(g2 * w2.transpose());
  const Eigen::MatrixXf gz1 = rounded<H>(ga1.cwiseProduct((1 - a1.array().square()).matrix()));

  BOOST_TEST(std::abs(r.loss - loss) <= 1e-6 * loss);
  BOOST_TEST(all_in<H>(trainer.output()));  // the output is kept in H
  BOOST_TEST(relative(trainer.output(), z2) < 1e-6);
  auto grad = [&](const char* name, const Eigen::MatrixXf& expected) {
    const Eigen::MatrixXf g = net.gradient(name);
    BOOST_TEST_INFO(name);
    BOOST_TEST(relative(g, expected) < 1e-5);
  };
  grad("2.weight", a1.transpose() * g2);
  grad("2.bias", g2.colwise().sum());
  grad("0.weight", x.transpose() * gz1);
  grad("0.bias", gz1.colwise().sum());

  // and it is not the float step: within H's precision of it, not equal to it
  Net copy(net);
  Trainer<Net, MSE, 4> full(copy);
  full.inputs() = x;
  full.targets() = y;
  BOOST_REQUIRE(full.compute().ok());
  const double tolerance = std::is_same_v<H, Eigen::bfloat16> ? 0.05 : 0.01;
  BOOST_TEST(relative(net.gradients(), copy.gradients()) < tolerance);
  BOOST_TEST(!same_bits(net.gradients(), copy.gradients()));
}

BOOST_AUTO_TEST_CASE(bfloat16_step_is_its_definition) { check_by_hand<Eigen::bfloat16>(); }
BOOST_AUTO_TEST_CASE(half_step_is_its_definition) { check_by_hand<Eigen::half>(); }

namespace {
// Layers of one type that occurs more than once share a program and keep H copies; the same
// layers wrapped in Sequential<> once, twice, three times are distinct types with programs of
// their own (each holding H values). Same parameters in the same order: the same bits.
using Block = Residual<Sequential<Linear<8, 8>, ReLU>, std::ratio<1, 2>>;
using Repeated =
    Sequential<Linear<4, 8>, ReLU, Block, Block, Block, Sequential<Linear<8, 8>, Tanh>, Block, Linear<8, 3>>;
using Own = Sequential<Linear<4, 8>, ReLU, Block, Sequential<Block>, Sequential<Sequential<Block>>,
                       Sequential<Linear<8, 8>, Tanh>, Sequential<Sequential<Sequential<Block>>>, Linear<8, 3>>;

template <class P, int Batch>
void check_shared_equals_own(int steps) {
  Network<Repeated> shared(5);
  Network<Own> own(5);
  own.values() = shared.values();
  Trainer<Network<Repeated>, SoftmaxCrossEntropy<>, Batch, P> ts(shared, 6);
  Trainer<Network<Own>, SoftmaxCrossEntropy<>, Batch, P> to(own, 6);
  static_assert(decltype(ts)::activation_bytes(6) < decltype(to)::activation_bytes(6),
                "the shared layers keep H copies: fewer bytes");
  Adam as(shared), ao(own);
  for (int step = 0; step < steps; ++step) {
    if constexpr (Batch == dynamic) {  // a batch change half way
      const Index rows = step < steps / 2 ? 6 : 9;
      ts.inputs().resize(rows), ts.targets().resize(rows), to.inputs().resize(rows), to.targets().resize(rows);
    }
    fill(ts, 11 + static_cast<unsigned>(step));
    fill(to, 11 + static_cast<unsigned>(step));
    const StepResult rs = ts.step(as), ro = to.step(ao);
    BOOST_REQUIRE(rs.ok());
    BOOST_REQUIRE(ro.ok());
    BOOST_TEST(rs.loss == ro.loss);
    BOOST_TEST(same_bits(shared.gradients(), own.gradients()));
    BOOST_TEST(same_bits(ts.output(), to.output()));
    BOOST_TEST(same_bits(shared.values(), own.values()));
  }
  fill(ts, 99);
  fill(to, 99);
  BOOST_TEST(same_bits(ts.infer(), to.infer()));
}
}  // namespace

BOOST_AUTO_TEST_CASE(shared_programs_give_the_same_bits_as_own_programs) {
  check_shared_equals_own<BF16, 6>(4);
  check_shared_equals_own<F16, 6>(4);
  check_shared_equals_own<BF16, dynamic>(6);
}

BOOST_AUTO_TEST_CASE(activation_bytes_by_hand) {
  // ReLU (at 1, 3, 5) occurs three times before the last layer and is stored; Linear<8, 8> (2,
  // 4) twice, which would not save memory (its group's input value and adjoint cost what one
  // layer's program does): own programs. Batch 16, float: a 16x8 value is 512 bytes.
  using Net = Network<Sequential<Linear<4, 8>, ReLU, Linear<8, 8>, ReLU, Linear<8, 8>, ReLU, Linear<8, 3>>>;
  using Full = Trainer<Net, MSE, 16>;
  using Half = Trainer<Net, MSE, 16, BF16>;
  // each ReLU's own program: value, adjoint and its input's adjoint, 3 x 512 = 1536 bytes; stored:
  // its value in 2 bytes (256) each, and one program plus the input's value and adjoint (2560)
  constexpr std::size_t plain_relus = 3 * 1536, stored_relus = 3 * 256 + 1536 + 2 * 512;
  static_assert(Full::activation_bytes() - Half::activation_bytes() == plain_relus - stored_relus);
  BOOST_TEST(Full::activation_bytes() - Half::activation_bytes() == 1280u);
}

BOOST_AUTO_TEST_CASE(loss_scaling_keeps_small_adjoints_that_binary16_would_flush) {
  // One linear layer, targets a hair from its outputs: the loss's adjoint 2 (z - y) / n is about
  // 1e-8, below half binary16's smallest subnormal (6e-8), so it rounds to zero unscaled.
  using Net = Network<Sequential<Linear<4, 3>>>;
  Net a(1), b(1);
  Trainer<Net, MSE, 8, F16> unscaled(a), scaled(b);
  unscaled.loss_scale().scale = 1;
  BOOST_TEST(scaled.loss_scale().scale == 65536.0);  // PyTorch's initial scale
  fill(unscaled, 3, 0.25);  // outputs of magnitude below 4, where a float's step is at most 4.8e-7
  scaled.inputs() = unscaled.inputs().value();
  const Eigen::MatrixXf z = unscaled.infer();
  Eigen::MatrixXf y = z;
  for (Index i = 0; i < y.rows(); ++i)
    for (Index j = 0; j < y.cols(); ++j) y(i, j) = std::nextafter(z(i, j), (i + j) % 2 ? 10.0f : -10.0f);
  unscaled.targets() = y, scaled.targets() = y;
  const Eigen::MatrixXf g = 2.0f / static_cast<float>(z.size()) * (z - y);  // the adjoint, in float
  BOOST_REQUIRE(g.cwiseAbs().maxCoeff() < 0x1p-25f);
  BOOST_REQUIRE(g.cwiseAbs().minCoeff() > 0);
  BOOST_REQUIRE(unscaled.compute().ok());
  BOOST_REQUIRE(scaled.compute().ok());
  BOOST_TEST(a.gradients().norm() == 0);  // flushed to zero in binary16
  const Eigen::MatrixXf x = unscaled.inputs().value();
  BOOST_TEST(relative(b.gradient("0.weight"), x.transpose() * g) < 2e-3);  // kept (to 2^-11), and unscaled
  BOOST_TEST(relative(b.gradient("0.bias"), g.colwise().sum()) < 2e-3);
}

BOOST_AUTO_TEST_CASE(an_overflowing_step_is_skipped_and_the_scale_backs_off) {
  using Net = Network<Sequential<Linear<4, 8>, ReLU, Linear<8, 3>>>;
  Net net(2);
  Trainer<Net, SoftmaxCrossEntropy<>, 8, F16> trainer(net);
  Adam adam(net);
  fill(trainer, 4);
  trainer.loss_scale().scale = 0x1p40;  // the output's adjoint (about 0.1) times 2^40: beyond 65504
  const Eigen::VectorXf before = net.values();
  const StepResult r = trainer.step(adam);
  BOOST_TEST(!r.ok());
  BOOST_TEST((r.status == StepResult::Status::non_finite_gradient));
  BOOST_TEST(same_bits(net.values(), before));  // untouched
  BOOST_TEST(trainer.loss_scale().scale == 0x1p39);
  BOOST_TEST(trainer.loss_scale().skipped_steps == 1);
  // it backs off until the adjoints fit, then trains: about 0.1 x 2^k < 65504 from k = 19
  int skipped = 1;
  StepResult s = trainer.step(adam);
  while (!s.ok() && skipped < 40) {
    ++skipped;
    s = trainer.step(adam);
  }
  BOOST_TEST(s.ok());
  BOOST_TEST(skipped > 10);
  BOOST_TEST(trainer.loss_scale().skipped_steps == skipped);
  BOOST_TEST(!same_bits(net.values(), before));
  // the step that went through equals one taken at that scale from the start: the skipped steps
  // left weights and optimizer state as they were
  Net fresh(2);
  Trainer<Net, SoftmaxCrossEntropy<>, 8, F16> again(fresh);
  Adam adam2(fresh);
  fill(again, 4);
  again.loss_scale().scale = trainer.loss_scale().scale;
  BOOST_REQUIRE(again.step(adam2).ok());
  BOOST_TEST(same_bits(fresh.values(), net.values()));
}

BOOST_AUTO_TEST_CASE(an_overflowing_forward_is_skipped_too) {
  using Net = Network<Sequential<Linear<4, 8>, ReLU, Linear<8, 3>>>;
  Net net(2);
  Trainer<Net, MSE, 8, F16> trainer(net);
  Sgd sgd(net, {.lr = 0.1});
  fill(trainer, 4, 1e6);  // activations beyond 65504: infinite in binary16
  const Eigen::VectorXf before = net.values();
  const StepResult r = trainer.step(sgd);
  BOOST_TEST(!r.ok());
  BOOST_TEST(same_bits(net.values(), before));
  BOOST_TEST(trainer.loss_scale().scale == 32768.0);
  // bfloat16 has float's range: the same batch is finite
  Net net2(2);
  Trainer<Net, MSE, 8, BF16> wide(net2);
  Sgd sgd2(net2, {.lr = 1e-12});
  fill(wide, 4, 1e6);
  BOOST_TEST(wide.step(sgd2).ok());
}

BOOST_AUTO_TEST_CASE(the_scale_grows_after_finite_steps) {
  using Net = Network<Sequential<Linear<4, 8>, ReLU, Linear<8, 3>>>;
  Net net(2);
  Trainer<Net, SoftmaxCrossEntropy<>, 8, F16> trainer(net);
  Sgd sgd(net, {.lr = 0.01});
  trainer.loss_scale().scale = 1024;
  trainer.loss_scale().growth_interval = 3;
  fill(trainer, 4);
  for (int k = 0; k < 2; ++k) BOOST_REQUIRE(trainer.step(sgd).ok());
  BOOST_TEST(trainer.loss_scale().scale == 1024.0);
  BOOST_REQUIRE(trainer.step(sgd).ok());
  BOOST_TEST(trainer.loss_scale().scale == 2048.0);
  BOOST_TEST(trainer.loss_scale().finite_steps == 0);
}

BOOST_AUTO_TEST_CASE(loss_scale_update_rule) {
  LossScale s;
  s.scale = 4;
  s.growth_interval = 2;
  s.update(true);
  BOOST_TEST(s.scale == 4.0);
  s.update(true);
  BOOST_TEST(s.scale == 8.0);
  s.update(true);
  s.update(false);
  BOOST_TEST(s.scale == 4.0);
  BOOST_TEST(s.finite_steps == 0);
  BOOST_TEST(s.skipped_steps == 1);
  for (int k = 0; k < 400; ++k) s.update(false);
  BOOST_TEST(s.scale == static_cast<double>(FLT_MIN));  // bounded: 1 / scale stays finite
}

BOOST_AUTO_TEST_CASE(checkpoints_under_mixed_precision_give_the_same_bits) {
  // a checkpoint recomputes its block and rounds it again: the same values the stored blocks keep
  using Lean = Sequential<Linear<4, 8>, ReLU, Checkpoint<Block>, Checkpoint<Block>, Checkpoint<Block>,
                          Sequential<Linear<8, 8>, Tanh>, Checkpoint<Block>, Linear<8, 3>>;
  Network<Repeated> shared(5);
  Network<Lean> lean(5);
  lean.values() = shared.values();
  Trainer<Network<Repeated>, SoftmaxCrossEntropy<>, 6, BF16> ts(shared);
  Trainer<Network<Lean>, SoftmaxCrossEntropy<>, 6, BF16> tl(lean);
  Adam as(shared), al(lean);
  for (int step = 0; step < 3; ++step) {
    fill(ts, 21 + static_cast<unsigned>(step));
    fill(tl, 21 + static_cast<unsigned>(step));
    const StepResult rs = ts.step(as), rl = tl.step(al);
    BOOST_REQUIRE(rs.ok());
    BOOST_REQUIRE(rl.ok());
    BOOST_TEST(rs.loss == rl.loss);
    BOOST_TEST(same_bits(shared.gradients(), lean.gradients()));
    BOOST_TEST(same_bits(shared.values(), lean.values()));
  }
}

BOOST_AUTO_TEST_CASE(parallel_bfloat16_training_is_one_threads_to_rounding) {
  // shards round their own loss's adjoint (the mean over 4 rows, not 12): equal to rounding
  Network<Repeated> one(6), many(6);
  Trainer<Network<Repeated>, SoftmaxCrossEntropy<>, 12, BF16> single(one);
  ParallelTrainer<Network<Repeated>, SoftmaxCrossEntropy<>, 12, BF16> parallel(many, 3);
  fill(single, 8);
  parallel.inputs() = single.inputs().value();
  parallel.targets() = single.targets().value();
  const StepResult a = single.compute(), b = parallel.compute();
  BOOST_REQUIRE(a.ok());
  BOOST_REQUIRE(b.ok());
  BOOST_TEST(std::abs(a.loss - b.loss) < 1e-6 * a.loss);
  BOOST_TEST(relative(many.gradients(), one.gradients()) < 0.02);
  Adam aa(one), ab(many);
  for (int step = 0; step < 5; ++step) {
    BOOST_REQUIRE(single.step(aa).ok());
    BOOST_REQUIRE(parallel.step(ab).ok());
  }
  BOOST_TEST(relative(many.values(), one.values()) < 1e-3);
}
