// ops/relu.hpp: known values, and the adjoint against central finite differences in float and double.
#define BOOST_TEST_MODULE ops_relu
#include "tapeless/ops/relu.hpp"

#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

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
  // away from the kink: a central difference across 0 measures neither one-sided slope
  x.value() = x.value().unaryExpr([](S v) { return v < 0 ? v - S(0.1) : v + S(0.1); });
  auto f = [](auto& x) { return relu(x); };
  test::check_gradients(sum(f(x) * w), x);
}

BOOST_AUTO_TEST_CASE(derivative_at_the_kink_is_zero_as_in_pytorch) {
  // relu'(0) is a convention: 0, as torch.relu's backward gives (and as the notes' mask x > 0).
  Tensor<double, 1, 3> x{{-0.0, 0.0, 1e-300}};
  auto g = grad(sum(relu(x)), x);
  BOOST_TEST((g[x] == (Eigen::RowVector3d() << 0, 0, 1).finished()));
}

BOOST_AUTO_TEST_CASE(negative_inputs_pass_no_gradient) {
  Tensor<double, 1, 4> x{{-2, -0.5, 0.5, 2}};
  auto g = grad(sum(relu(x)), x);
  BOOST_TEST(g.scalar() == 2.5);
  BOOST_TEST((g[x] == (Eigen::RowVector4d() << 0, 0, 1, 1).finished()));
}
