// ops/pow.hpp: known values, and the adjoint against central finite differences in float and double.
#define BOOST_TEST_MODULE ops_pow
#include "tapeless/ops/pow.hpp"

#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace tapeless;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(known_values) {
  Scalar<double> x{4.0};
  auto g = grad(pow(x, 1.5), x);
  BOOST_TEST(g.scalar() == 8.0, tt::tolerance(1e-14));
  BOOST_TEST(g[x](0, 0) == 3.0, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 3, 4> x, w;
  test::randomize(x, 0.5, 2), test::randomize(w);
  auto f = [](auto& x) { return pow(x, S(1.5)); };
  test::check_gradients(sum(f(x) * w), x);
}
