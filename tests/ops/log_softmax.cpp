// ops/log_softmax.hpp: known values, stability, and the adjoint against central finite differences.
#define BOOST_TEST_MODULE ops_log_softmax
#include "tapeless/ops/log_softmax.hpp"

#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace tapeless;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(known_values) {
  Tensor<double, 2, 2> x{{0, 0}, {-1000, 0}};  // -1000: log of a softmax that underflows
  const auto y = eval(log_softmax(x));
  BOOST_TEST(y(0, 0) == -std::log(2.0), tt::tolerance(1e-14));
  BOOST_TEST(y(1, 0) == -1000.0, tt::tolerance(1e-14));
  BOOST_TEST(std::abs(y(1, 1)) <= 1e-14);  // an absolute bound: a relative one against 0 demands 0 exactly
  // d/dx sum(log_softmax(x)) on a row of n = 2: 1 - n p = (0, 0) on a uniform row
  Tensor<double, 1, 2> u{{0, 0}};
  BOOST_TEST(grad(sum(log_softmax(u)), u)[u].norm() <= 1e-14);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 4, 5> x, w;
  test::randomize(x, -2, 2), test::randomize(w);
  test::check_gradients(sum(log_softmax(x) * w), x);
}
