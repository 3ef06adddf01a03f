// network/parallel_trainer.hpp: a step split over threads (the update too, in slices, or after
// the sum with clipping) equals one thread's to rounding, is the same bits run after run,
// allocates nothing, refuses a non-finite step leaving every weight as it was, and hands a
// shard's exception to the caller with nothing updated.
#include "support/eigen_guard.hpp"  // before Eigen: its heap guard on in Release too
#define BOOST_TEST_MODULE network_parallel_trainer
#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/mse.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/parallel_trainer.hpp"
#include "tapeless/optim/adam.hpp"
#include "tapeless/optim/sgd.hpp"

#include "support/allocation_counter.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

using namespace tapeless;

namespace {
using Net = Network<Sequential<Linear<5, 12>, ReLU, Linear<12, 12>, Tanh, Linear<12, 4>>, double>;
using Ce = SoftmaxCrossEntropy<>;

/// Batch `step` of a fixed stream: inputs in [-1, 1], labels 0..3.
template <class T>
void fill(T& t, int step) {
  std::mt19937 rng(static_cast<unsigned>(100 + step));
  std::uniform_real_distribution<double> u(-1, 1);
  for (Index j = 0; j < t.inputs().value().cols(); ++j)
    for (Index i = 0; i < t.inputs().rows(); ++i) t.inputs()(i, j) = u(rng);
  for (Index i = 0; i < t.inputs().rows(); ++i) t.targets()(i, 0) = static_cast<int>(rng() % 4);
}

double relative(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  return (a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff();
}
}  // namespace

BOOST_AUTO_TEST_CASE(two_and_three_threads_equal_one_to_rounding_over_adam_steps) {
  for (int threads : {2, 3}) {
    Net one(7), many(7);
    Trainer<Net, Ce, 10> single(one);
    ParallelTrainer<Net, Ce, 10> parallel(many, threads);  // 10 rows: shards of 5+5, or 4+3+3
    BOOST_TEST(parallel.threads() == threads);
    Adam a1(one), a2(many);
    for (int step = 0; step < 20; ++step) {
      fill(single, step);
      fill(parallel, step);
      const StepResult r1 = single.step(a1), r2 = parallel.step(a2);
      BOOST_TEST_REQUIRE(r1.ok());
      BOOST_TEST_REQUIRE(r2.ok());
      BOOST_TEST(r2.loss == r1.loss, boost::test_tools::tolerance(1e-12));
      if (step == 0) {
        BOOST_TEST(relative(many.gradients(), one.gradients()) < 1e-12);
        BOOST_TEST((parallel.output() - single.output()).cwiseAbs().maxCoeff() < 1e-12);
      }
    }
    BOOST_TEST(relative(many.values(), one.values()) < 1e-10, threads << " threads");
    BOOST_TEST((many.values() - Net(7).values()).norm() > 0.1);  // the weights moved: the match means something
  }
}

// One thread (the main job's --threads 1) is a run-time-batch Trainer over the whole batch: the
// same bits.
BOOST_AUTO_TEST_CASE(one_thread_gives_a_trainers_bits) {
  Net one(7), many(7);
  Trainer<Net, Ce> single(one, 10);
  ParallelTrainer<Net, Ce, 10> parallel(many, 1);
  Adam a1(one), a2(many);
  for (int step = 0; step < 5; ++step) {
    fill(single, step);
    fill(parallel, step);
    BOOST_TEST_REQUIRE(single.step(a1).ok());
    BOOST_TEST_REQUIRE(parallel.step(a2).ok());
    BOOST_TEST((many.gradients().array() == one.gradients().array()).all());
  }
  BOOST_TEST((many.values().array() == one.values().array()).all());
  BOOST_TEST((many.values() - Net(7).values()).norm() > 0.01);  // the weights moved
}

BOOST_AUTO_TEST_CASE(the_same_bits_run_after_run_and_with_a_run_time_batch) {
  Net a(3), b(3), c(3);
  ParallelTrainer<Net, MSE, dynamic> ta(a, 2, 9), tb(b, 2, 9);
  Trainer<Net, MSE> tc(c, 9);
  Adam oa(a), ob(b), oc(c);
  for (int step = 0; step < 10; ++step) {
    for (auto* t : {&ta.inputs(), &tb.inputs(), &tc.inputs()}) t->value().setConstant(0.1 * step - 0.3);
    std::mt19937 rng(static_cast<unsigned>(step));
    std::uniform_real_distribution<double> u(-1, 1);
    for (Index i = 0; i < 9; ++i)
      for (Index j = 0; j < 4; ++j) ta.targets()(i, j) = tb.targets()(i, j) = tc.targets()(i, j) = u(rng);
    ta.inputs()(step % 9, step % 5) = tb.inputs()(step % 9, step % 5) = tc.inputs()(step % 9, step % 5) = 2.0;
    BOOST_TEST_REQUIRE(ta.step(oa).ok());
    BOOST_TEST_REQUIRE(tb.step(ob).ok());
    BOOST_TEST_REQUIRE(tc.step(oc).ok());
  }
  BOOST_TEST((a.values().array() == b.values().array()).all());  // deterministic, bit for bit
  BOOST_TEST(relative(a.values(), c.values()) < 1e-10);
  // a new batch size re-cuts the shards (7 rows: 4 + 3) and still equals one thread
  for (auto* t : {&ta.inputs(), &tc.inputs()}) t->resize(7);
  ta.targets().resize(7);
  tc.targets().resize(7);
  ta.inputs().value().setConstant(0.25);
  tc.inputs().value().setConstant(0.25);
  ta.targets().value().setConstant(0.5);
  tc.targets().value().setConstant(0.5);
  BOOST_TEST(ta.compute().loss == tc.compute().loss, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(relative(a.gradients(), c.gradients()) < 1e-12);
}

BOOST_AUTO_TEST_CASE(a_step_allocates_nothing) {
  Net net(1);
  ParallelTrainer<Net, Ce, 16> trainer(net, 2);
  Adam adam(net);
  fill(trainer, 0);
  BOOST_TEST_REQUIRE(trainer.step(adam).ok());
  BOOST_TEST(test::allocations_during([&] {
               for (int i = 0; i < 5; ++i) BOOST_REQUIRE(trainer.step(adam).ok());
             }) == 0);
}

BOOST_AUTO_TEST_CASE(a_non_finite_shard_leaves_every_weight_untouched) {
  Net net(2);
  ParallelTrainer<Net, Ce, 8> trainer(net, 2);
  Adam adam(net);
  fill(trainer, 1);
  BOOST_TEST_REQUIRE(trainer.step(adam).ok());
  const Eigen::VectorXd before = net.values(), m = adam.first_moment();
  trainer.inputs()(6, 2) = std::numeric_limits<double>::quiet_NaN();  // in the second shard
  const StepResult r = trainer.step(adam);
  BOOST_TEST(!r.ok());
  BOOST_TEST((net.values().array() == before.array()).all());
  BOOST_TEST((adam.first_moment().array() == m.array()).all());
  BOOST_TEST(!trainer.explain(r).empty());
}

BOOST_AUTO_TEST_CASE(clipping_and_a_non_finite_update_as_one_thread) {
  // with clipping the update runs on the calling thread after the sum; without, in slices
  Net one(6), many(6);
  Trainer<Net, Ce, 8> single(one);
  ParallelTrainer<Net, Ce, 8> parallel(many, 2);
  Adam a1(one), a2(many);
  for (int step = 0; step < 5; ++step) {
    fill(single, step);
    fill(parallel, step);
    BOOST_TEST_REQUIRE(single.step(a1, Clip{.max_norm = 0.05}).ok());
    BOOST_TEST_REQUIRE(parallel.step(a2, Clip{.max_norm = 0.05}).ok());
  }
  BOOST_TEST(relative(many.values(), one.values()) < 1e-10);
  BOOST_TEST(a2.step_count() == 5);
  // an update that would overflow (the gradients are finite): refused, nothing changes
  // (the gradients here are below 1, so lr g alone stays finite; the decay term wd w is not)
  Sgd huge(many, {.lr = 1e308, .weight_decay = 10});
  const Eigen::VectorXd before = many.values();
  const StepResult r = parallel.step(huge);
  BOOST_TEST(static_cast<int>(r.status) == static_cast<int>(StepResult::Status::non_finite_update));
  BOOST_TEST((many.values().array() == before.array()).all());
}

BOOST_AUTO_TEST_CASE(a_shards_exception_reaches_the_caller_and_nothing_is_updated) {
  Net net(4);
  ParallelTrainer<Net, Ce, 9> trainer(net, 3);
  Adam adam(net);
  fill(trainer, 2);
  const Eigen::VectorXd before = net.values();
  trainer.targets()(8, 0) = 7;  // the third shard's last row: only 4 classes
  BOOST_CHECK_THROW(trainer.step(adam), std::out_of_range);
  BOOST_TEST((net.values().array() == before.array()).all());
  BOOST_TEST(adam.step_count() == 0);
  trainer.targets()(8, 0) = 3;  // and the trainer works on
  BOOST_TEST(trainer.step(adam).ok());
  BOOST_TEST(adam.step_count() == 1);
}

BOOST_AUTO_TEST_CASE(fewer_rows_than_threads_leave_threads_idle) {
  Net a(5), b(5);
  BOOST_CHECK_THROW((ParallelTrainer<Net, Ce, 2>(a, 0)), std::invalid_argument);
  ParallelTrainer<Net, Ce, dynamic> many(a, 3, 2);  // 2 rows, 3 threads: 1 + 1 + idle
  Trainer<Net, Ce> one(b, 2);
  Adam oa(a), ob(b);
  for (int step = 0; step < 3; ++step) {
    fill(many, step);
    fill(one, step);
    BOOST_TEST(many.step(oa).loss == one.step(ob).loss, boost::test_tools::tolerance(1e-12));
  }
  for (auto* t : {&many.inputs(), &one.inputs()}) t->resize(1);  // one row: one busy thread
  many.targets().resize(1);
  one.targets().resize(1);
  fill(many, 9);
  fill(one, 9);
  BOOST_TEST(many.step(oa).loss == one.step(ob).loss, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(relative(a.values(), b.values()) < 1e-12);
  many.inputs().resize(0);
  many.targets().resize(0);
  BOOST_CHECK_THROW(many.compute(), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(an_adam_update_that_fails_in_one_slice_is_undone_in_every_slice) {
  // Adam applies each thread's slice at once, saving what it overwrites; a slice that passed
  // must be put back when another failed.
  Net net(6);
  ParallelTrainer<Net, Ce, 8> parallel(net, 2);
  Adam adam(net);
  for (int step = 0; step < 2; ++step) {  // moments that are not zero
    fill(parallel, step);
    BOOST_TEST_REQUIRE(parallel.step(adam).ok());
  }
  // every weight 0 but the last (the second thread's slice), whose decay term wd w = 1e300 makes
  // (1 - beta2) (g + wd w)^2 overflow: the first slice's update is finite, the second's is not
  net.values().setZero();
  net.values()(net.values().size() - 1) = 1;
  adam.set_options({.weight_decay = 1e300});
  fill(parallel, 2);
  const Eigen::VectorXd w = net.values(), m = adam.first_moment(), v = adam.second_moment();
  const StepResult r = parallel.step(adam);
  BOOST_TEST(static_cast<int>(r.status) == static_cast<int>(StepResult::Status::non_finite_update));
  BOOST_TEST((net.values().array() == w.array()).all());
  BOOST_TEST((adam.first_moment().array() == m.array()).all());
  BOOST_TEST((adam.second_moment().array() == v.array()).all());
  BOOST_TEST(adam.step_count() == 2);
  adam.set_options({});
  BOOST_TEST(parallel.step(adam).ok());  // and it trains on
}
