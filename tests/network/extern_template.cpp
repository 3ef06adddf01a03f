// network/trainer.hpp and network/predictor.hpp under `extern template`: this translation unit
// uses a Trainer and a Predictor that support/extern_model.cpp compiles, and gets the same
// results as a program over the same network built here. CMake's test_network_extern_symbols
// checks that this file's object defines none of their running code (nm).
#define BOOST_TEST_MODULE network_extern_template
#include "tapeless/engine/program.hpp"
#include "tapeless/optim/sgd.hpp"

#include "support/check.hpp"
#include "support/extern_model.hpp"

#include <boost/test/unit_test.hpp>

#include <tuple>
#include <type_traits>

using namespace tapeless;

BOOST_AUTO_TEST_CASE(a_trainer_compiled_elsewhere_trains_the_network) {
  model::Net net(3);
  Trainer<model::Net, model::Loss, model::batch> trainer(net);
  test::randomize(trainer.inputs());
  for (Index i = 0; i < model::batch; ++i) trainer.targets()(i, 0) = static_cast<int>(i % 3);

  const auto here = test::whole_network_loss<model::Loss>(net, trainer.inputs(), trainer.targets());
  const auto expected = net.gradients().eval();

  const StepResult r = trainer.compute();
  BOOST_TEST(r.ok());
  BOOST_TEST(r.loss == here.scalar());
  BOOST_TEST((net.gradients().array() == expected.array()).all());

  Sgd<double> sgd(net, {0.1});
  double first = 0, last = 0;
  for (int s = 0; s < 50; ++s) {
    const StepResult step = trainer.step(sgd);
    BOOST_TEST_REQUIRE(step.ok());
    (s == 0 ? first : last) = step.loss;
  }
  BOOST_TEST(last < first);

  Predictor<model::Net, 1> predictor(net);
  predictor.inputs().value() = trainer.inputs().value().row(2);
  const auto all = trainer.infer().eval();
  BOOST_TEST((predictor() - all.row(2)).cwiseAbs().maxCoeff() < 1e-12);
}
