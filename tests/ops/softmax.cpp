// ops/softmax.hpp: known values, stability, and the adjoint against central finite differences.
#define BOOST_TEST_MODULE ops_softmax
#include "tapeless/ops/softmax.hpp"

#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace tapeless;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(known_values) {
  Tensor<double, 2, 3> x{{0, 0, 0}, {1000, 1000 + std::log(2.0), 1000}};  // large: must not overflow
  const auto y = eval(softmax(x));
  BOOST_TEST(y(0, 1) == 1.0 / 3, tt::tolerance(1e-14));
  BOOST_TEST(y(1, 1) == 0.5, tt::tolerance(1e-12));  // 1000 + log 2 is rounded
  BOOST_TEST(y(1, 0) == 0.25, tt::tolerance(1e-12));
  // d/dx sum(softmax(x) * c) for c = (1, 0, 0) on a uniform row: p0 (c - <c, p>) = (2/9, -1/9, -1/9)
  Tensor<double, 1, 3> u{{0, 0, 0}}, c{{1, 0, 0}};
  const auto g = grad(sum(softmax(u) * input(c)), u)[u];
  BOOST_TEST(g(0, 0) == 2.0 / 9, tt::tolerance(1e-14));
  BOOST_TEST(g(0, 1) == -1.0 / 9, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 4, 5> x, w;
  test::randomize(x, -2, 2), test::randomize(w);
  test::check_gradients(sum(softmax(x) * w), x);
}
