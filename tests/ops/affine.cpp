// ops/affine.hpp: known values, and the adjoint against central finite differences in float and double.
#define BOOST_TEST_MODULE ops_affine
#include "tapeless/ops/affine.hpp"

#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace tapeless;
namespace tt = boost::test_tools;

#include "tapeless/ops/bias_add.hpp"
#include "tapeless/ops/matmul.hpp"
BOOST_AUTO_TEST_CASE_TEMPLATE(equals_matmul_then_bias_add, S, test::scalar_types) {
  Tensor<S, 6, 5> x;
  Tensor<S, 5, 4> w;
  Tensor<S, 1, 4> b;
  Tensor<S, 6, 4> m;
  test::randomize(x), test::randomize(w), test::randomize(b), test::randomize(m);
  auto fused = grad(sum(affine(x, w, b) * m), x, w, b);
  auto plain = grad(sum(bias_add(matmul(x, w), b) * m), x, w, b);
  BOOST_TEST(fused.scalar() == plain.scalar(), tt::tolerance(S(1e-5)));
  BOOST_TEST(fused[x].isApprox(plain[x]));
  BOOST_TEST(fused[w].isApprox(plain[w]));
  BOOST_TEST(fused[b].isApprox(plain[b]));
}
BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 6, 5> x;
  Tensor<S, 5, 4> w;
  Tensor<S, 1, 4> b;
  Tensor<S, 6, 4> m;
  test::randomize(x), test::randomize(w), test::randomize(b), test::randomize(m);
  test::check_gradients(sum(affine(x, w, b) * m), x, w, b);
}
