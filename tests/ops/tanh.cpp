// ops/tanh.hpp: known values, and the adjoint against central finite differences in float and double.
#define BOOST_TEST_MODULE ops_tanh
#include "tapeless/ops/tanh.hpp"

#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace tapeless;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(known_values) {
  Scalar<double> x{0.3};
  auto g = grad(tanh(x), x);
  BOOST_TEST(g.scalar() == std::tanh(0.3), tt::tolerance(1e-14));
  BOOST_TEST(g[x](0, 0) == 1 - std::tanh(0.3) * std::tanh(0.3), tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 3, 4> x, w;
  test::randomize(x, -2, 2), test::randomize(w);
  auto f = [](auto& x) { return tanh(x); };
  test::check_gradients(sum(f(x) * w), x);
}
