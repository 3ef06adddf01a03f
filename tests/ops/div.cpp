// ops/div.hpp: known values, and the adjoint against central finite differences in float and double.
#define BOOST_TEST_MODULE ops_div
#include "tapeless/ops/div.hpp"

#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace tapeless;
namespace tt = boost::test_tools;

#include "tapeless/ops/add.hpp"
BOOST_AUTO_TEST_CASE(known_values) {
  Scalar<double> a{6}, b{3};
  auto g = grad(a / b, a, b);
  BOOST_TEST(g.scalar() == 2.0);
  BOOST_TEST(g[a](0, 0) == 1.0 / 3.0, tt::tolerance(1e-15));
  BOOST_TEST(g[b](0, 0) == -6.0 / 9.0, tt::tolerance(1e-15));
}
BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 3, 4> a, b, w;
  Scalar<S> s{S(1.3)};
  test::randomize(a), test::randomize(b, 1.0, 2.0), test::randomize(w);
  test::check_gradients(sum(a / b * w), a, b);
  test::check_gradients(sum(s / b * w) + sum(a / s * w), a, b, s);
}
