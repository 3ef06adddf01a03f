// ops/transpose.hpp: known values, and the adjoint against central finite differences in float and double.
#define BOOST_TEST_MODULE ops_transpose
#include "tapeless/ops/transpose.hpp"

#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace tapeless;
namespace tt = boost::test_tools;

#include "tapeless/ops/matmul.hpp"
BOOST_AUTO_TEST_CASE(known_values) {
  Tensor<double, 2, 3> a{{1, 2, 3}, {4, 5, 6}};
  BOOST_TEST((eval(transpose(a)) == a.value().transpose().eval()));
  Tensor<double, 3, 2> g{{1, 2}, {3, 4}, {5, 6}};
  BOOST_TEST((grad(sum(transpose(a) * input(g)), a)[a] == g.value().transpose().eval()));
}
BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 3, 4> a;
  Tensor<S, 3, 5> b;
  test::randomize(a), test::randomize(b);
  test::check_gradients(sum(matmul(transpose(a), b) * matmul(transpose(a), b)), a, b);
}
