// ops/mean.hpp: known values, and the adjoint against central finite differences in float and double.
#define BOOST_TEST_MODULE ops_mean
#include "tapeless/ops/mean.hpp"

#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace tapeless;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(known_values) {
  Tensor<double, 2, 2> a{{1, 2}, {3, 4}};
  BOOST_TEST(eval(mean(a))(0, 0) == 2.5);
  BOOST_TEST((grad(mean(a), a)[a] == Eigen::Matrix2d::Constant(0.25)));
}
BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 3, 4> a;
  test::randomize(a);
  test::check_gradients(mean(a) * mean(a * a), a);
}
