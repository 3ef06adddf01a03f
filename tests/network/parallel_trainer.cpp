// network/parallel_trainer.hpp: a step split over threads (the update too, in slices, or after
// the sum with clipping) equals one thread's to rounding, is the same bits run after run,
// allocates nothing, refuses a non-finite step leaving every weight as it was, and hands a
// shard's exception to the caller with nothing updated; by rows of the batch, and, for a network
// of one hidden layer on two threads, by hidden units (network/hidden_split.hpp).
#include "support/eigen_guard.hpp"  // before Eigen: its heap guard on in Release too
#define BOOST_TEST_MODULE network_parallel_trainer
#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/mse.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/parallel_trainer.hpp"
#include "tapeless/ops/softmax.hpp"
#include "tapeless/optim/adam.hpp"
#include "tapeless/optim/sgd.hpp"

#include "support/allocation_counter.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <type_traits>

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

/// A batch of 7 rows (a new size for a trainer built for another), inputs 0.25, MSE targets 0.5.
template <class T>
void seven_rows(T& t) {
  t.inputs().resize(7);
  t.targets().resize(7);
  t.inputs().value().setConstant(0.25);
  t.targets().value().setConstant(0.5);
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
  seven_rows(ta);
  seven_rows(tc);
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

// ---- a network of one hidden layer on two threads: split by hidden units (network/hidden_split.hpp)

namespace {
using Wide = Network<Sequential<Linear<5, 12>, Tanh, Linear<12, 4>>, double>;
}  // namespace

BOOST_AUTO_TEST_CASE(one_hidden_layer_on_two_threads_is_split_by_hidden_units_and_nothing_else_is) {
  Wide w(1);
  Net n(1);
  using Odd = Network<Sequential<Linear<5, 7>, ReLU, Linear<7, 4>>, double>;           // 7 units do not halve
  using Rowwise = Network<Sequential<Linear<5, 12>, Softmax, Linear<12, 4>>, double>;  // not elementwise
  Odd odd(1);
  Rowwise rowwise(1);
  BOOST_TEST((ParallelTrainer<Wide, Ce, 8>(w, 2).splits_hidden_units()));
  BOOST_TEST(!(ParallelTrainer<Wide, Ce, 8>(w, 3).splits_hidden_units()));  // two parts only
  BOOST_TEST(!(ParallelTrainer<Wide, Ce, 8>(w, 1).splits_hidden_units()));
  BOOST_TEST(!(ParallelTrainer<Net, Ce, 8>(n, 2).splits_hidden_units()));  // two hidden layers
  BOOST_TEST(!(ParallelTrainer<Odd, Ce, 8>(odd, 2).splits_hidden_units()));
  BOOST_TEST(!(ParallelTrainer<Rowwise, Ce, 8>(rowwise, 2).splits_hidden_units()));
  static_assert(
      std::is_same_v<detail::hidden_split<Wide::layers, 2>::part, Sequential<Linear<5, 6>, Tanh, Linear<6, 4>>>);
  static_assert(
      detail::hidden_split<Sequential<Linear<5, 12>, Linear<12, 4>>, 2>::value);  // no activation: still a sum
  static_assert(!detail::hidden_split<Linear<5, 4>, 2>::value);
  static_assert(!detail::hidden_split<Sequential<ReLU, Linear<5, 4>>, 2>::value);          // no Linear first
  static_assert(!detail::hidden_split<Sequential<Linear<5, 4>, ReLU>, 2>::value);          // none last
  static_assert(!detail::hidden_split<Sequential<Linear<5, 1>, Linear<1, 4>>, 2>::value);  // one unit
}

BOOST_AUTO_TEST_CASE(the_split_equals_one_thread_to_rounding_over_adam_and_sgd_steps) {
  Wide one(7), many(7), one_sgd(8), many_sgd(8);
  Trainer<Wide, Ce, 10> single(one), single_sgd(one_sgd);
  ParallelTrainer<Wide, Ce, 10> parallel(many, 2), parallel_sgd(many_sgd, 2);
  BOOST_TEST_REQUIRE(parallel.splits_hidden_units());
  Adam a1(one), a2(many);
  Sgd s1(one_sgd, {.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3}),
      s2(many_sgd, {.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3});
  for (int step = 0; step < 20; ++step) {
    for (auto* t : {&single, &single_sgd}) fill(*t, step);
    for (auto* t : {&parallel, &parallel_sgd}) fill(*t, step);
    const StepResult r1 = single.step(a1), r2 = parallel.step(a2);
    BOOST_TEST_REQUIRE(r1.ok());
    BOOST_TEST_REQUIRE(r2.ok());
    BOOST_TEST(r2.loss == r1.loss, boost::test_tools::tolerance(1e-12));
    BOOST_TEST_REQUIRE(single_sgd.step(s1).ok());
    BOOST_TEST_REQUIRE(parallel_sgd.step(s2).ok());
    if (step == 0) {  // every parameter's gradient, b2's (part 0's alone) and W2's rows included
      BOOST_TEST(relative(many.gradients(), one.gradients()) < 1e-12);
      BOOST_TEST(relative(many_sgd.gradients(), one_sgd.gradients()) < 1e-12);
      BOOST_TEST((parallel.output() - single.output()).cwiseAbs().maxCoeff() < 1e-12);
    }
  }
  BOOST_TEST(relative(many.values(), one.values()) < 1e-10);
  BOOST_TEST(relative(many_sgd.values(), one_sgd.values()) < 1e-10);
  BOOST_TEST(relative(s2.velocity(), s1.velocity()) < 1e-10);
  BOOST_TEST((many.values() - Wide(7).values()).norm() > 0.01);  // the weights moved
  BOOST_TEST((many_sgd.values() - Wide(8).values()).norm() > 0.1);
  // compute() alone: the gradients of the whole batch, nothing updated
  const Eigen::VectorXd before = many.values();
  BOOST_TEST(parallel.compute().loss == single.compute().loss, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(relative(many.gradients(), one.gradients()) < 1e-10);
  BOOST_TEST((many.values().array() == before.array()).all());
}

BOOST_AUTO_TEST_CASE(
    the_split_gives_the_same_bits_run_after_run_reads_weights_set_between_steps_and_takes_a_new_batch_size) {
  Wide a(3), b(3), c(3);
  ParallelTrainer<Wide, MSE, dynamic> ta(a, 2, 9), tb(b, 2, 9);
  Trainer<Wide, MSE> tc(c, 9);
  BOOST_TEST_REQUIRE(ta.splits_hidden_units());
  Adam oa(a), ob(b), oc(c);
  for (int step = 0; step < 10; ++step) {
    std::mt19937 rng(static_cast<unsigned>(step));
    std::uniform_real_distribution<double> u(-1, 1);
    for (Index i = 0; i < 9; ++i) {
      for (Index j = 0; j < 5; ++j) ta.inputs()(i, j) = tb.inputs()(i, j) = tc.inputs()(i, j) = u(rng);
      for (Index j = 0; j < 4; ++j) ta.targets()(i, j) = tb.targets()(i, j) = tc.targets()(i, j) = u(rng);
    }
    BOOST_TEST_REQUIRE(ta.step(oa).ok());
    BOOST_TEST_REQUIRE(tb.step(ob).ok());
    BOOST_TEST_REQUIRE(tc.step(oc).ok());
  }
  BOOST_TEST((a.values().array() == b.values().array()).all());  // deterministic, bit for bit
  BOOST_TEST(relative(a.values(), c.values()) < 1e-10);
  // weights set between steps (the second layer's, which each part copies) are the ones used
  a.parameter("2.weight").setConstant(0.125);
  a.parameter("2.bias").setConstant(-0.5);
  c.parameter("2.weight").setConstant(0.125);
  c.parameter("2.bias").setConstant(-0.5);
  // a new batch size (7 rows) and still one thread's results
  seven_rows(ta);
  seven_rows(tc);
  BOOST_TEST(ta.compute().loss == tc.compute().loss, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(relative(a.gradients(), c.gradients()) < 1e-12);
  BOOST_TEST(ta.output().rows() == 7);
  BOOST_TEST((ta.output() - tc.infer()).cwiseAbs().maxCoeff() < 1e-12);
}

BOOST_AUTO_TEST_CASE(a_split_step_allocates_nothing) {
  Wide net(1);
  ParallelTrainer<Wide, Ce, 16> fixed(net, 2);
  ParallelTrainer<Wide, Ce> run_time(net, 2, 16);
  BOOST_TEST_REQUIRE(fixed.splits_hidden_units());
  Adam adam(net);
  Sgd sgd(net, {.lr = 0.01, .momentum = 0.9});
  fill(fixed, 0);
  fill(run_time, 0);
  BOOST_TEST_REQUIRE(fixed.step(adam).ok());
  BOOST_TEST_REQUIRE(run_time.step(sgd).ok());
  BOOST_TEST(test::allocations_during([&] {
               for (int i = 0; i < 5; ++i) {
                 BOOST_REQUIRE(fixed.step(adam).ok());
                 BOOST_REQUIRE(run_time.step(sgd).ok());
               }
             }) == 0);
}

BOOST_AUTO_TEST_CASE(a_non_finite_split_step_leaves_every_weight_and_moment_untouched) {
  Wide net(2);
  ParallelTrainer<Wide, Ce, 8> trainer(net, 2);
  Adam adam(net);
  for (int step = 0; step < 2; ++step) {  // moments that are not zero
    fill(trainer, step);
    BOOST_TEST_REQUIRE(trainer.step(adam).ok());
  }
  Eigen::VectorXd w = net.values(), m = adam.first_moment(), v = adam.second_moment();
  trainer.inputs()(6, 2) = std::numeric_limits<double>::quiet_NaN();
  StepResult r = trainer.step(adam);
  BOOST_TEST(static_cast<int>(r.status) == static_cast<int>(StepResult::Status::non_finite_loss));
  BOOST_TEST((net.values().array() == w.array()).all());
  BOOST_TEST((adam.first_moment().array() == m.array()).all());
  BOOST_TEST(!trainer.explain(r).empty());
  // an update that fails in part 1's parameters only (W2's row 11: part 1's rows are 6..11,
  // the last of its O runs): part 0's applied ranges are undone too
  fill(trainer, 3);
  net.values().setZero();
  net.parameter("2.weight")(11, 3) = 1;
  adam.set_options({.weight_decay = 1e300});  // (1 - beta2) (g + wd w)^2 overflows where w = 1
  w = net.values();
  m = adam.first_moment();
  v = adam.second_moment();
  r = trainer.step(adam);
  BOOST_TEST(static_cast<int>(r.status) == static_cast<int>(StepResult::Status::non_finite_update));
  BOOST_TEST((net.values().array() == w.array()).all());
  BOOST_TEST((adam.first_moment().array() == m.array()).all());
  BOOST_TEST((adam.second_moment().array() == v.array()).all());
  BOOST_TEST(adam.step_count() == 2);
  adam.set_options({});
  BOOST_TEST(trainer.step(adam).ok());  // and it trains on
  BOOST_TEST(adam.step_count() == 3);
  BOOST_TEST((net.values() - w).norm() > 0);
}

BOOST_AUTO_TEST_CASE(an_infinite_loss_with_finite_gradients_updates_nothing_split_or_by_rows) {
  // MSE on outputs near 1e160: the loss overflows, the gradients (about 1e159) and an Sgd update
  // of them do not, so only the loss tells that the step must not be taken
  Wide wide(5);
  Net deep(5);
  ParallelTrainer<Wide, MSE, 8> split(wide, 2);
  ParallelTrainer<Net, MSE, 8> rows(deep, 2);
  BOOST_TEST_REQUIRE(split.splits_hidden_units());
  BOOST_TEST_REQUIRE(!rows.splits_hidden_units());
  wide.parameter("2.bias").setConstant(1e160);
  deep.parameter("4.bias").setConstant(1e160);
  Sgd s1(wide, {.lr = 1e-3}), s2(deep, {.lr = 1e-3});
  for (auto* t : {&split.inputs(), &rows.inputs()}) t->value().setConstant(0.5);
  split.targets().value().setZero();
  rows.targets().value().setZero();
  const Eigen::VectorXd w = wide.values(), d = deep.values();
  const StepResult r1 = split.step(s1), r2 = rows.step(s2);
  BOOST_TEST(static_cast<int>(r1.status) == static_cast<int>(StepResult::Status::non_finite_loss));
  BOOST_TEST(static_cast<int>(r2.status) == static_cast<int>(StepResult::Status::non_finite_loss));
  BOOST_TEST(detail::all_finite(wide.gradients()));  // what makes the case: finite gradients
  BOOST_TEST(detail::all_finite(deep.gradients()));
  BOOST_TEST((wide.values().array() == w.array()).all());
  BOOST_TEST((deep.values().array() == d.array()).all());
}

BOOST_AUTO_TEST_CASE(
    a_split_steps_exception_reaches_the_caller_and_nothing_is_updated_and_clipping_runs_as_one_thread) {
  Wide net(4), one(4);
  ParallelTrainer<Wide, Ce, 9> trainer(net, 2);
  Trainer<Wide, Ce, 9> single(one);
  Adam adam(net), a1(one);
  fill(trainer, 2);
  fill(single, 2);
  const Eigen::VectorXd before = net.values();
  trainer.targets()(8, 0) = 7;  // only 4 classes
  BOOST_CHECK_THROW(trainer.step(adam), std::out_of_range);
  BOOST_TEST((net.values().array() == before.array()).all());
  BOOST_TEST(adam.step_count() == 0);
  trainer.targets()(8, 0) = single.targets()(8, 0);  // and the trainer works on, clipped as one thread
  for (int step = 0; step < 4; ++step) {
    BOOST_TEST_REQUIRE(trainer.step(adam, Clip{.max_norm = 0.05}).ok());
    BOOST_TEST_REQUIRE(single.step(a1, Clip{.max_norm = 0.05}).ok());
  }
  BOOST_TEST(relative(net.values(), one.values()) < 1e-10);
  BOOST_TEST(adam.step_count() == 4);
}
