// optim/: SGD (momentum, weight decay) and Adam against their formulas written out per
// coefficient, and in slices against one update; clipping by global norm and by value; gradient
// norms and their flags.
#define BOOST_TEST_MODULE optim_optimizers
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/optim/adam.hpp"
#include "tapeless/optim/clip.hpp"
#include "tapeless/optim/sgd.hpp"

#include "support/optimizer_state.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

using namespace tapeless;
using Net = Network<Sequential<Linear<3, 2>>, double>;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(sgd_with_momentum_and_weight_decay) {
  Net net(1);
  Sgd sgd(net, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01});
  Eigen::VectorXd w = net.values(), v = Eigen::VectorXd::Zero(w.size());
  for (int t = 0; t < 3; ++t) {
    net.gradients().setLinSpaced(-1.0 + t, 1.0 + t);
    for (Index i = 0; i < w.size(); ++i) {
      v(i) = 0.9 * v(i) + net.gradients()(i) + 0.01 * w(i);
      w(i) -= 0.1 * v(i);
    }
    sgd.update(net);
  }
  BOOST_TEST(((net.values() - w).norm() < 1e-14));
}

BOOST_AUTO_TEST_CASE(plain_sgd_is_w_minus_lr_g) {
  Net net(1);
  Sgd sgd(net, {.lr = 0.5});
  const Eigen::VectorXd w = net.values();
  net.gradients().setOnes();
  sgd.update(net);
  BOOST_TEST(((net.values() - (w.array() - 0.5).matrix()).norm() < 1e-15));
}

BOOST_AUTO_TEST_CASE(adam_with_bias_correction_and_weight_decay) {
  Net net(2);
  Adam adam(net, {.lr = 0.01, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6, .weight_decay = 0.1});
  Eigen::VectorXd w = net.values(), m = Eigen::VectorXd::Zero(w.size()), v = m;
  for (int t = 1; t <= 4; ++t) {
    net.gradients().setLinSpaced(-2.0 * t, 1.0);
    for (Index i = 0; i < w.size(); ++i) {
      const double g = net.gradients()(i) + 0.1 * w(i);
      m(i) = 0.8 * m(i) + 0.2 * g;
      v(i) = 0.99 * v(i) + 0.01 * g * g;
      w(i) -= 0.01 * (m(i) / (1 - std::pow(0.8, t))) / (std::sqrt(v(i) / (1 - std::pow(0.99, t))) + 1e-6);
    }
    adam.update(net);
  }
  BOOST_TEST(adam.step_count() == 4);
  BOOST_TEST(((net.values() - w).norm() < 1e-14));
}

// The update in slices, as ParallelTrainer runs it on several threads, gives update()'s bits,
// whatever the split: Sgd's check each, commit each, finish; Adam's apply each (saving), finish.
// The cuts put coefficients that update() runs in a full packet into a slice's padded tail (42
// floats: 2 packets of 16 and a tail of 10 on AVX-512), so this also holds the tail to the
// packets' rounding. A failed slice stops the commit (Sgd: nothing has changed), or is undone
// with every other slice (Adam: then nothing has changed).
using Wide = Network<Sequential<Linear<5, 7>>, float>;
template <class Optimizer>
void check_slices_equal_update(Optimizer& whole, Optimizer& sliced, Wide& a, Wide& b) {
  constexpr bool checked = requires(const typename Optimizer::Plan& p) {
    sliced.check(p, b.values(), b.gradients(), 0, 0);
  };
  for (int t = 1; t <= 3; ++t) {
    a.gradients().setLinSpaced(-1.0f * static_cast<float>(t), 2.0f);
    b.gradients() = a.gradients();
    BOOST_TEST_REQUIRE(whole.update(a));
    const auto plan = sliced.plan();
    const Index n = b.values().size(), cuts[] = {0, 1, n / 2, n};
    for (int k = 0; k < 3; ++k) {
      if constexpr (checked)
        BOOST_TEST_REQUIRE(sliced.check(plan, b.values(), b.gradients(), cuts[k], cuts[k + 1] - cuts[k]));
      else
        BOOST_TEST_REQUIRE(sliced.apply(plan, b.values(), b.gradients(), cuts[k], cuts[k + 1] - cuts[k]));
    }
    if constexpr (checked)
      for (int k = 0; k < 3; ++k) sliced.commit(plan, b.values(), b.gradients(), cuts[k], cuts[k + 1] - cuts[k]);
    sliced.finish(plan);
    BOOST_TEST((a.values().array() == b.values().array()).all());
  }
  const Eigen::VectorXf before = b.values();
  b.gradients()(b.values().size() - 1) = std::nanf("");
  const auto plan = sliced.plan();
  const Index n = b.values().size();
  if constexpr (checked) {
    BOOST_TEST(sliced.check(plan, b.values(), b.gradients(), 0, 1));  // the first slice is clean
    BOOST_TEST(!sliced.check(plan, b.values(), b.gradients(), 1, n - 1));
  } else {
    BOOST_TEST(sliced.apply(plan, b.values(), b.gradients(), 0, 1));
    BOOST_TEST(!sliced.apply(plan, b.values(), b.gradients(), 1, n - 1));
    BOOST_TEST(!(b.values().array() == before.array()).all());  // applied: the caller must undo
    sliced.undo(plan, b.values(), 0, 1);
    sliced.undo(plan, b.values(), 1, n - 1);
  }
  BOOST_TEST((b.values().array() == before.array()).all());
}

/// Sets the L2 cache size Eigen reports (`Eigen::l2CacheSize()`) for the optimizers made in its
/// scope: Sgd keeps a copy for a one-pass update only where its data fit in L2.
struct L2Size {
  std::ptrdiff_t l1 = Eigen::l1CacheSize(), l2 = Eigen::l2CacheSize(), l3 = Eigen::l3CacheSize();
  explicit L2Size(std::ptrdiff_t bytes) { Eigen::setCpuCacheSizes(l1, bytes, l3); }
  L2Size(const L2Size&) = delete;
  L2Size& operator=(const L2Size&) = delete;
  ~L2Size() { Eigen::setCpuCacheSizes(l1, l2, l3); }
};

BOOST_AUTO_TEST_CASE(sgd_and_adam_in_slices_equal_one_update) {
  Wide a(3), b(3);
  Sgd s1(a, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01}),
      s2(b, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01});
  BOOST_TEST(s1.saves_copy());  // 42 parameters: update() is one pass, the slices check first
  check_slices_equal_update(s1, s2, a, b);
  BOOST_TEST((s1.velocity().array() == s2.velocity().array()).all());
  {
    const L2Size no_room(64);
    Wide c(3), d(3);
    Sgd s3(c, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01}),
        s4(d, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01});
    BOOST_TEST(!s3.saves_copy());  // update() checks first too
    check_slices_equal_update(s3, s4, c, d);
    BOOST_TEST((s3.velocity().array() == s4.velocity().array()).all());
  }
  Wide c(4), d(4);
  Adam a1(c, {.weight_decay = 0.1}), a2(d, {.weight_decay = 0.1});
  check_slices_equal_update(a1, a2, c, d);
  BOOST_TEST(a2.step_count() == 3);
  BOOST_TEST((a1.first_moment().array() == a2.first_moment().array()).all());
  BOOST_TEST((a1.second_moment().array() == a2.second_moment().array()).all());
  Wide e(5), f(5);
  Sgd p1(e, {.lr = 0.1}), p2(f, {.lr = 0.1});  // plain SGD: no velocity
  check_slices_equal_update(p1, p2, e, f);
}

// An update is one pass that writes as it goes; a non-finite value anywhere (first coefficient,
// inside a packet, in the scalar tail, last) makes it put everything back: weights and
// optimizer state bit for bit as before, after a few updates gave that state values.
template <class S, class MakeOptimizer>
void expect_failed_update_undone(MakeOptimizer make, S bad) {
  using N = Network<Sequential<Linear<5, 7>>, S>;  // 42 parameters: packets and a tail
  for (Index at : {Index{0}, Index{5}, Index{20}, Index{35}, Index{41}}) {
    N net(7);
    auto optimizer = make(net);
    for (int t = 1; t <= 3; ++t) {
      net.gradients().setLinSpaced(S(-1) * static_cast<S>(t), S(1));
      BOOST_TEST_REQUIRE(optimizer.update(net));
    }
    net.gradients().setLinSpaced(S(2), S(-1));
    net.gradients()(at) = bad;
    const auto w = net.values();
    const auto before = test::optimizer_state(optimizer);
    BOOST_TEST(!optimizer.update(net), "at " << at);
    BOOST_TEST((net.values().array() == w.array()).all(), "at " << at);
    BOOST_TEST((test::optimizer_state(optimizer) == before), "at " << at);
  }
}

// Sgd saves a copy where the weights, the velocity, their copies and the gradient (5 vectors; 3
// without momentum) fit in L2, and its update is then one pass; it checks first otherwise. Either
// way the same bits, and a failed update changes nothing.
BOOST_AUTO_TEST_CASE(sgd_saves_a_copy_where_its_data_fit_in_l2) {
  constexpr std::ptrdiff_t n = 42, bytes = n * sizeof(float);
  const SgdOptions plain{.lr = 0.1, .weight_decay = 0.01}, momentum{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01};
  auto run = [&](std::ptrdiff_t l2, const SgdOptions& o, bool saves) {
    Wide a(3), b(3);
    auto make = [&](Wide& net, std::ptrdiff_t size) {
      const L2Size cache(size);
      return Sgd(net, o);
    };
    Sgd s1 = make(a, l2), s2 = make(b, 1);  // s2: no copy, two passes
    BOOST_TEST(s1.saves_copy() == saves, "L2 " << l2 << ", momentum " << o.momentum);
    BOOST_TEST(!s2.saves_copy());
    for (int t = 1; t <= 3; ++t) {
      a.gradients().setLinSpaced(-1.0f * static_cast<float>(t), 2.0f);
      b.gradients() = a.gradients();
      BOOST_TEST_REQUIRE(s1.update(a));
      BOOST_TEST_REQUIRE(s2.update(b));
      BOOST_TEST((a.values().array() == b.values().array()).all(), "L2 " << l2 << ", step " << t);
      BOOST_TEST((s1.velocity().array() == s2.velocity().array()).all());
    }
    for (const Index at : {Index{0}, Index{17}, n - 1}) {  // first, inside a packet, last
      a.gradients().setLinSpaced(2.0f, -1.0f);
      a.gradients()(at) = std::nanf("");
      const Eigen::VectorXf w = a.values(), v = s1.velocity();
      BOOST_TEST(!s1.update(a));
      BOOST_TEST((a.values().array() == w.array()).all(), "L2 " << l2 << ", NaN at " << at);
      BOOST_TEST((s1.velocity().array() == v.array()).all(), "L2 " << l2 << ", NaN at " << at);
    }
    return s1;
  };
  run(5 * bytes, momentum, true);
  run(5 * bytes - 1, momentum, false);
  run(5 * bytes - 1, plain, true);
  run(3 * bytes, plain, true);
  run(3 * bytes - 1, plain, false);
  // The copy is sized for the options at construction: the weights' alone without momentum, so
  // momentum set later falls back to two passes; with momentum, both, enough for either.
  Sgd later = run(5 * bytes, plain, true);
  later.set_options(momentum);
  BOOST_TEST(!later.saves_copy());
  Sgd without = run(5 * bytes, momentum, true);
  without.set_options(plain);
  BOOST_TEST(without.saves_copy());
}

BOOST_AUTO_TEST_CASE(a_failed_update_is_undone_wherever_it_fails) {
  auto sgd = [](const SgdOptions& o) { return [o](auto& net) { return Sgd(net, o); }; };
  auto adam = [](const AdamOptions& o) { return [o](auto& net) { return Adam(net, o); }; };
  const float fnan = std::nanf(""), finf = HUGE_VALF;
  const double dnan = std::nan("");
  expect_failed_update_undone<float>(sgd({.lr = 0.1}), fnan);
  expect_failed_update_undone<float>(sgd({.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01}), finf);
  expect_failed_update_undone<double>(sgd({.lr = 0.1, .momentum = 0.5}), dnan);
  expect_failed_update_undone<float>(adam({.weight_decay = 0.1}), fnan);
  expect_failed_update_undone<double>(adam({}), -HUGE_VAL);
  // a finite gradient whose update is not: lr g past FLT_MAX; Adam's g^2 past it
  expect_failed_update_undone<float>(sgd({.lr = 10}), 3e38f);
  expect_failed_update_undone<float>(sgd({.lr = 10, .momentum = 0.9}), -3e38f);
  {  // and Sgd's two passes, where its data do not fit in L2 (a copy above: one pass)
    const L2Size no_room(64);
    expect_failed_update_undone<float>(sgd({.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01}), finf);
    expect_failed_update_undone<double>(sgd({.lr = 0.1}), dnan);
    expect_failed_update_undone<float>(sgd({.lr = 10}), 3e38f);
  }
  expect_failed_update_undone<float>(adam({.weight_decay = 1}), 3e38f);
}

BOOST_AUTO_TEST_CASE(an_update_of_the_wrong_size_is_refused) {
  Net net(1);
  Sgd sgd(net);
  Adam adam(net);
  Eigen::VectorXd w = net.values(), g = Eigen::VectorXd::Zero(w.size() + 1);
  BOOST_CHECK_THROW(sgd.update(w, g), shape_error);
  BOOST_CHECK_THROW(adam.update(w, g), shape_error);
  BOOST_TEST((w == net.values()));
  BOOST_TEST(adam.step_count() == 0);
  Eigen::VectorXd shorter = w.head(3), g3 = Eigen::VectorXd::Zero(3);
  try {
    adam.update(shorter, g3);
    BOOST_ERROR("accepted");
  } catch (const shape_error& e) {
    BOOST_TEST(std::string(e.what()).find("3 weights and 3 gradients") != std::string::npos, e.what());
    BOOST_TEST(std::string(e.what()).find("network of 8 parameters") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(clipping) {
  Eigen::VectorXd g(4);
  g << 3, 4, 0, 0;  // norm 5
  BOOST_TEST(clip_by_global_norm(g, 1.0) == 5.0);
  BOOST_TEST(g.norm() == 1.0, tt::tolerance(1e-15));
  BOOST_TEST(g(0) == 0.6, tt::tolerance(1e-15));
  Eigen::VectorXd small = g;
  BOOST_TEST(clip_by_global_norm(small, 10.0) == 1.0, tt::tolerance(1e-15));
  BOOST_TEST((small == g));  // under the bound: untouched
  Eigen::VectorXd h(3);
  h << -5, 0.5, 7;
  clip_by_value(h, 1.0);
  BOOST_TEST((h == Eigen::Vector3d(-1, 0.5, 1)));
}

BOOST_AUTO_TEST_CASE(gradient_norms_flag_vanishing_and_exploding) {
  Net net(3);
  net.gradient("0.weight").setConstant(1000.0);
  net.gradient("0.bias").setConstant(1e-9);
  const auto norms = gradient_norms(net);
  BOOST_TEST_REQUIRE(norms.size() == 2u);
  BOOST_TEST(norms[0].name == "0.weight");
  BOOST_TEST(norms[0].norm == std::sqrt(6.0) * 1000, tt::tolerance(1e-12));
  BOOST_TEST(norms[0].exploding);
  BOOST_TEST(!norms[0].vanishing);
  BOOST_TEST(norms[1].vanishing);
  BOOST_TEST(!norms[1].exploding);
}

#include "tapeless/losses/mse.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/trainer.hpp"
#include "tapeless/optim/lr_finder.hpp"

BOOST_AUTO_TEST_CASE(learning_rate_finder_sweeps_and_restores) {
  // y = x1 + x2 (reference notes 002) with a linear model: small rates barely move the loss,
  // huge ones blow it up.
  Network<Sequential<Linear<2, 1>>, double> model(4);
  Trainer<decltype(model), MSE, 32> trainer(model);
  Rng rng(1);
  auto fill = [&](auto& t, int) {
    for (Index i = 0; i < 32; ++i) {
      t.inputs()(i, 0) = rng.uniform(-1, 1);
      t.inputs()(i, 1) = rng.uniform(-1, 1);
      t.targets()(i, 0) = t.inputs()(i, 0) + t.inputs()(i, 1);
    }
  };
  const Eigen::VectorXd before = model.values();
  const auto sweep = find_learning_rate(
      trainer, model, [&](double lr) { return Sgd(model, {.lr = lr}); }, fill, 1e-4, 1e2, 13);
  BOOST_TEST_REQUIRE(sweep.size() == 13u);
  BOOST_TEST(sweep.front().lr == 1e-4, tt::tolerance(1e-12));
  BOOST_TEST(sweep[4].lr == 1e-2, tt::tolerance(1e-12));
  BOOST_TEST(sweep.back().lr == 1e2, tt::tolerance(1e-12));
  BOOST_TEST((model.values() == before));  // restored exactly
  double best = sweep.front().loss;
  for (const auto& p : sweep)
    if (std::isfinite(p.loss)) best = std::min(best, p.loss);
  BOOST_TEST(best < 0.5 * sweep.front().loss);                                       // a good rate learns
  BOOST_TEST((!std::isfinite(sweep.back().loss) || sweep.back().loss > 10 * best));  // lr 100 diverges
  BOOST_CHECK_THROW(find_learning_rate(
                        trainer, model, [&](double lr) { return Sgd(model, {.lr = lr}); }, fill, 1.0, 0.1, 5),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(learning_rate_finder_records_each_steps_loss_before_its_update) {
  // The documented semantics, replayed by hand: point i holds the loss of batch i at the weights
  // left by the steps at lr_0 .. lr_{i-1}, the one the step at lr_i computes before updating.
  using Model = Network<Sequential<Linear<2, 1>>, double>;
  Model model(4);
  auto fill = [](auto& t, int i) {
    Rng rng(static_cast<std::uint64_t>(i) + 1);  // batch i depends on i only
    for (Index r = 0; r < 8; ++r) {
      t.inputs()(r, 0) = rng.uniform(-1, 1);
      t.inputs()(r, 1) = rng.uniform(-1, 1);
      t.targets()(r, 0) = t.inputs()(r, 0) + t.inputs()(r, 1);
    }
  };
  Trainer<Model, MSE, 8> trainer(model);
  const auto sweep = find_learning_rate(
      trainer, model, [&](double lr) { return Sgd(model, {.lr = lr}); }, fill, 1e-2, 1.0, 5);
  Model replay(4);
  Trainer<Model, MSE, 8> by_hand(replay);
  for (int i = 0; i < 5; ++i) {
    fill(by_hand, i);
    const double before_update = by_hand.compute().loss;
    Sgd sgd(replay, {.lr = sweep[static_cast<std::size_t>(i)].lr});
    by_hand.step(sgd);
    BOOST_TEST(sweep[static_cast<std::size_t>(i)].loss == before_update);
    BOOST_TEST((sweep[static_cast<std::size_t>(i)].status == StepResult::Status::ok));
  }
}

namespace {
template <class F>
std::string refusal(F&& make) {
  try {
    make();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}
}  // namespace

BOOST_AUTO_TEST_CASE(options_outside_their_domain_are_refused_at_construction) {
  Net net(1);
  Network<Sequential<Linear<3, 2>>, float> small(1);
  const double nan = std::nan(""), inf = HUGE_VAL;
  struct Case {
    AdamOptions o;
    const char* says;
  };
  for (const Case& c : {Case{{.lr = nan}, "lr"}, Case{{.lr = 0}, "lr"}, Case{{.lr = -1e-3}, "lr"},
                        Case{{.lr = inf}, "lr"}, Case{{.beta1 = 1}, "beta1"}, Case{{.beta1 = -0.1}, "beta1"},
                        Case{{.beta1 = nan}, "beta1"}, Case{{.beta2 = 1}, "beta2"}, Case{{.beta2 = 1.5}, "beta2"},
                        Case{{.eps = 0}, "eps"}, Case{{.eps = -1}, "eps"}, Case{{.eps = nan}, "eps"},
                        Case{{.weight_decay = nan}, "weight_decay"}, Case{{.weight_decay = -1}, "weight_decay"}}) {
    const std::string what = refusal([&] { Adam adam(net, c.o); });
    BOOST_TEST(what.find(std::string("tapeless::Adam: ") + c.says) == 0u, what);
  }
  // a rate that is finite in double but not in the network's float
  BOOST_TEST(refusal([&] { Adam adam(small, {.lr = 1e40}); }).find("lr") != std::string::npos);
  BOOST_TEST(refusal([&] { Sgd sgd(small, {.lr = 1e40}); }).find("lr") != std::string::npos);
  // the value as written: the fewest digits that read back as the same double
  BOOST_TEST(refusal([&] { Sgd sgd(small, {.lr = 1e40}); }).find("lr = 1e+40 must") != std::string::npos);
  BOOST_TEST(refusal([&] { Adam adam(net, {.lr = -1e-3}); }).find("lr = -0.001 must") != std::string::npos);
  BOOST_TEST(refusal([&] { Adam adam(net, {.beta2 = 1.0000000000000002}); }).find("beta2 = 1.0000000000000002 must") !=
             std::string::npos);
  BOOST_TEST(refusal([&] { Adam adam(net, {.eps = nan}); }).find("eps = nan must") != std::string::npos);
  struct SgdCase {
    SgdOptions o;
    const char* says;
  };
  for (const SgdCase& c :
       {SgdCase{{.lr = nan}, "lr"}, SgdCase{{.lr = 0}, "lr"}, SgdCase{{.momentum = -0.5}, "momentum"},
        SgdCase{{.momentum = nan}, "momentum"}, SgdCase{{.weight_decay = inf}, "weight_decay"}}) {
    const std::string what = refusal([&] { Sgd sgd(net, c.o); });
    BOOST_TEST(what.find(std::string("tapeless::Sgd: ") + c.says) == 0u, what);
  }
  // options changed later go through the same check, and a refused change keeps the old ones
  Adam adam(net);
  BOOST_CHECK_THROW(adam.set_options({.lr = nan}), std::invalid_argument);
  BOOST_TEST(adam.options().lr == 1e-3);
  adam.set_options({.lr = 0.5});
  BOOST_TEST(adam.options().lr == 0.5);
}
