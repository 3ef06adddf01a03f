// ops/neg.hpp: known values, and the adjoint against central finite differences in float and double.
#define BOOST_TEST_MODULE ops_neg
#include "tapeless/ops/neg.hpp"

#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace tapeless;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(known_values) {
  Tensor<double, 1, 2> a{{1, -2}};
  BOOST_TEST((eval(-a) == (Eigen::RowVector2d() << -1, 2).finished()));
  BOOST_TEST((grad(sum(-a), a)[a] == -Eigen::RowVector2d::Ones()));
}
BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 3, 4> a, w;
  test::randomize(a), test::randomize(w);
  test::check_gradients(sum(-a * w), a);
}
