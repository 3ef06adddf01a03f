// ops/mul.hpp: known values, and the adjoint against central finite differences in float and double.
#define BOOST_TEST_MODULE ops_mul
#include "tapeless/ops/mul.hpp"

#include "tapeless/ops/add.hpp"
#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace tapeless;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(known_values) {
  Tensor<double, 1, 3> a{{1, 2, 3}}, b{{4, 5, 6}};
  BOOST_TEST((eval(a * b) == (Eigen::RowVector3d() << 4, 10, 18).finished()));
  Scalar<double> s{3};
  auto g = grad(sum(a * b * s), a, b, s);
  BOOST_TEST((g[a] == 3 * b.value()));
  BOOST_TEST((g[b] == 3 * a.value()));
  BOOST_TEST(g[s](0, 0) == 32.0);
}
BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 3, 4> a, b;
  Scalar<S> s{S(0.3)};
  test::randomize(a), test::randomize(b);
  test::check_gradients(sum(a * b * a), a, b);
  test::check_gradients(sum(s * a * b) + sum(a * s), a, s);
}
