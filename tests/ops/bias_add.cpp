// ops/bias_add.hpp: known values, and the adjoint against central finite differences in float and double.
#define BOOST_TEST_MODULE ops_bias_add
#include "tapeless/ops/bias_add.hpp"

#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace tapeless;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(known_values) {
  Tensor<double, 2, 2> x{{1, 2}, {3, 4}};
  Tensor<double, 1, 2> b{{10, 20}};
  BOOST_TEST((eval(bias_add(x, b)) == (Eigen::Matrix2d() << 11, 22, 13, 24).finished()));
  Tensor<double, 2, 2> g{{1, 2}, {3, 4}};
  auto p = grad(sum(bias_add(x, b) * input(g)), x, b);
  BOOST_TEST((p[x] == g.value()));
  BOOST_TEST(p[b] == (Eigen::RowVector2d() << 4, 6).finished());  // column sums of G
}
BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 5, 4> x, w;
  Tensor<S, 1, 4> b;
  test::randomize(x), test::randomize(b), test::randomize(w);
  test::check_gradients(sum(bias_add(x, b) * w * w), x, b);
}
