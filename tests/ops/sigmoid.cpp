// ops/sigmoid.hpp: known values, and the adjoint against central finite differences in float and double.
#define BOOST_TEST_MODULE ops_sigmoid
#include "tapeless/ops/sigmoid.hpp"

#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace tapeless;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(known_values) {
  Scalar<double> x{0.0};
  auto g = grad(sigmoid(x), x);
  BOOST_TEST(g.scalar() == 0.5, tt::tolerance(1e-14));
  BOOST_TEST(g[x](0, 0) == 0.25, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 3, 4> x, w;
  test::randomize(x, -4, 4), test::randomize(w);
  auto f = [](auto& x) { return sigmoid(x); };
  test::check_gradients(sum(f(x) * w), x);
}

BOOST_AUTO_TEST_CASE(saturates_without_overflow) {
  Tensor<float, 1, 2> x{{-100.f, 100.f}};
  const auto y = eval(sigmoid(x));
  BOOST_TEST(y(0, 0) == 0.f, tt::tolerance(1e-30f));
  BOOST_TEST(y(0, 1) == 1.f);
}
