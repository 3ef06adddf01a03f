// optim/schedule.hpp: every schedule against PyTorch's scheduler of the same rule, step by step
// (tests/fixtures/schedules_torch.txt, made by make_schedules_torch.py); parameters refused by
// name; early stopping's patience, min_delta and NaN; setting an optimizer's rate.
#define BOOST_TEST_MODULE optim_schedule
#include "tapeless/optim/schedule.hpp"

#include "tapeless/layers/linear.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/optim/adam.hpp"
#include "tapeless/optim/sgd.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace tapeless;

namespace {
std::map<std::string, std::vector<double>> torch_rates() {
  std::ifstream in(std::string(TAPELESS_FIXTURES) + "/schedules_torch.txt");
  BOOST_TEST_REQUIRE(in.good());
  std::map<std::string, std::vector<double>> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name;
    fields >> name;
    for (double v; fields >> v;) out[name].push_back(v);
  }
  return out;
}

template <class Schedule>
void expect_torch(const std::string& name, const Schedule& schedule) {
  static const auto rates = torch_rates();
  const std::vector<double>& expected = rates.at(name);
  BOOST_TEST_REQUIRE(expected.size() > 10u);
  for (std::size_t t = 0; t < expected.size(); ++t) {
    const double ours = schedule(static_cast<std::int64_t>(t));
    BOOST_TEST(std::abs(ours - expected[t]) <= 1e-12 * expected[t],
               name << " step " << t << ": " << ours << " vs " << expected[t]);
  }
}

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

BOOST_AUTO_TEST_CASE(schedules_match_pytorch_step_by_step) {
  expect_torch("step_decay", StepDecay(0.1, 7, 0.5));
  expect_torch("cosine", CosineDecay(0.1, 20, 0.001));
  expect_torch("one_cycle", OneCycle(0.5, 40));
  expect_torch("one_cycle_short_warmup", OneCycle(1.0, 25, 0.2, 10, 100));
  expect_torch("warmup_then_cosine", Warmup(5, CosineDecay(0.1, 15), 0.2));
}

BOOST_AUTO_TEST_CASE(past_the_end_a_schedule_holds_its_last_rate) {
  const CosineDecay cosine(0.1, 20, 0.001);
  BOOST_TEST(cosine(20) == 0.001, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(cosine(1000) == cosine(20));
  const OneCycle cycle(0.5, 40);
  BOOST_TEST(cycle(39) == cycle(500));
  BOOST_TEST(cycle(39) == 0.5 / 25 / 1e4, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(bad_parameters_are_refused_by_name) {
  BOOST_TEST(error_of([] { StepDecay(0.1, 0); }) == "tapeless::StepDecay: every is 0; it must be >= 1");
  BOOST_TEST(error_of([] { CosineDecay(-1, 10); }) == "tapeless::CosineDecay: lr is -1; it must be finite and > 0");
  BOOST_TEST(error_of([] { CosineDecay(0.1, 10, 0.5); }) ==
             "tapeless::CosineDecay: min_lr is 0.5; it must be finite, >= 0 and <= lr");
  BOOST_TEST(error_of([] { OneCycle(0.1, 10, 1.5); }) == "tapeless::OneCycle: pct_start is 1.5; it must be in (0, 1)");
  BOOST_TEST(error_of([] { OneCycle(0.1, 10, 0.1); }) ==
             "tapeless::OneCycle: pct_start * steps is 1; it must be more than 1 step and fewer than steps");
  BOOST_TEST(error_of([] { Warmup(3, StepDecay(0.1, 2), 0); }) ==
             "tapeless::Warmup: start_factor is 0; it must be in (0, 1]");
  BOOST_TEST(error_of([] { EarlyStopping(0); }) == "tapeless::EarlyStopping: patience is 0; it must be >= 1");
}

BOOST_AUTO_TEST_CASE(early_stopping_waits_patience_updates_without_improvement) {
  EarlyStopping stop(2, 0.01);
  BOOST_TEST(!stop.update(1.0));
  BOOST_TEST(stop.improved());
  BOOST_TEST(!stop.update(0.995));  // within min_delta: no improvement, 1 of 2
  BOOST_TEST(!stop.improved());
  BOOST_TEST(!stop.update(0.9));  // improves: the wait starts again
  BOOST_TEST(stop.improved());
  BOOST_TEST(!stop.update(std::nan("")));  // NaN never improves
  BOOST_TEST(stop.update(0.95));           // second in a row: stop
  BOOST_TEST(stop.best() == 0.9);
  BOOST_TEST(stop.best_update() == 3);
}

BOOST_AUTO_TEST_CASE(a_schedule_drives_an_optimizers_rate) {
  Network<Linear<2, 3>> net(1);
  Sgd sgd(net, {.lr = 0.5});
  Adam adam(net);
  const Warmup warm(4, StepDecay(0.2, 10));
  for (std::int64_t t = 0; t < 6; ++t) {
    set_learning_rate(sgd, warm(t));
    set_learning_rate(adam, warm(t));
    BOOST_TEST(sgd.options().lr == warm(t));
    BOOST_TEST(adam.options().lr == warm(t));
  }
  BOOST_TEST(sgd.options().lr == 0.2);
  BOOST_CHECK_THROW(set_learning_rate(sgd, -1.0), std::invalid_argument);  // the optimizer checks it too
  BOOST_TEST(sgd.options().lr == 0.2);                                     // and keeps the old one
}
