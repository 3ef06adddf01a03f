// ops/add.hpp: known values, and the adjoint against central finite differences in float and double.
#define BOOST_TEST_MODULE ops_add
#include "tapeless/ops/add.hpp"

#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace tapeless;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(known_values) {
  Tensor<double, 2, 2> a{{1, 2}, {3, 4}}, b{{10, 20}, {30, 40}};
  BOOST_TEST((eval(a + b) == (Eigen::Matrix2d() << 11, 22, 33, 44).finished()));
  BOOST_TEST((eval(a + 1.0) == (Eigen::Matrix2d() << 2, 3, 4, 5).finished()));
  Scalar<double> s{2};
  auto g = grad(sum((a + s) * b), a, s);  // d/da = b, d/ds = sum(b)
  BOOST_TEST((g[a] == b.value()));
  BOOST_TEST(g[s](0, 0) == 100.0);
}
BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 3, 4> a, b, w;
  Scalar<S> s{S(0.3)};
  test::randomize(a), test::randomize(b), test::randomize(w);
  test::check_gradients(sum((a + b) * w), a, b);
  test::check_gradients(sum((s + a) * w) + sum((a + s) * w), a, s);
}
