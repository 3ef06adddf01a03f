// ops/sub.hpp: known values, and the adjoint against central finite differences in float and double.
#define BOOST_TEST_MODULE ops_sub
#include "tapeless/ops/sub.hpp"

#include "tapeless/ops/add.hpp"
#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace tapeless;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(known_values) {
  Tensor<double, 1, 2> a{{5, 7}}, b{{1, 2}};
  BOOST_TEST((eval(a - b) == (Eigen::RowVector2d() << 4, 5).finished()));
  BOOST_TEST((eval(10.0 - a) == (Eigen::RowVector2d() << 5, 3).finished()));
  auto g = grad(sum(a - b), a, b);
  BOOST_TEST((g[a] == Eigen::RowVector2d::Ones()));
  BOOST_TEST((g[b] == -Eigen::RowVector2d::Ones()));
}
BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 3, 4> a, b, w;
  Scalar<S> s{S(0.3)};
  test::randomize(a), test::randomize(b), test::randomize(w);
  test::check_gradients(sum((a - b) * w), a, b);
  test::check_gradients(sum((s - a) * w) + sum((a - s) * w * w), a, s);
}
