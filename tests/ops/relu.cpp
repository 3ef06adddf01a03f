// ops/relu.hpp: known values, and the adjoint against central finite differences in float and double.
#define BOOST_TEST_MODULE ops_relu
#include "support/check.hpp"
#include "tapeless/ops/relu.hpp"
#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace tapeless;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(known_values) {
  Scalar<double> x{1.5};
  auto g = grad(relu(x), x);
  BOOST_TEST(g.scalar() == 1.5, tt::tolerance(1e-14));
  BOOST_TEST(g[x](0, 0) == 1.0, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 3, 4> x, w;
  test::randomize(x, -2, 2), test::randomize(w);
  auto f = [](auto& x) { return relu(x); };
  test::check_gradients(sum(f(x) * w), x);
}

BOOST_AUTO_TEST_CASE(negative_inputs_pass_no_gradient) {
  Tensor<double, 1, 4> x{{-2, -0.5, 0.5, 2}};
  auto g = grad(sum(relu(x)), x);
  BOOST_TEST(g.scalar() == 2.5);
  BOOST_TEST((g[x] == (Eigen::RowVector4d() << 0, 0, 1, 1).finished()));
}
