// ops/matmul.hpp: known values, and the adjoint against central finite differences in float and double.
#define BOOST_TEST_MODULE ops_matmul
#include "tapeless/ops/matmul.hpp"

#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <type_traits>

using namespace tapeless;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(known_values) {
  Tensor<double, 2, 3> a{{1, 2, 3}, {4, 5, 6}};
  Tensor<double, 3, 2> b{{1, 0}, {0, 1}, {1, 1}};
  const Eigen::Matrix2d expect = (Eigen::Matrix2d() << 4, 5, 10, 11).finished();
  BOOST_TEST((eval(matmul(a, b)) == expect));
  Tensor<double, 2, 2> g{{1, 2}, {3, 4}};
  auto p = grad(sum(matmul(a, b) * input(g)), a, b);  // da = G B^T, db = A^T G
  BOOST_TEST((p[a] == (g.value() * b.value().transpose()).eval()));
  BOOST_TEST((p[b] == (a.value().transpose() * g.value()).eval()));
}
BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 3, 4> a;
  Tensor<S, 4, 5> b;
  Tensor<S, 3, 5> w;
  test::randomize(a), test::randomize(b), test::randomize(w);
  test::check_gradients(sum(matmul(a, b) * w), a, b);
  Tensor<S, 40, 50> big_a;  // heap-stored operands (over the fixed-size limit)
  Tensor<S, 50, 3> big_b;
  Tensor<S, 40, 3> big_w;
  test::randomize(big_a), test::randomize(big_b), test::randomize(big_w);
  if constexpr (std::is_same_v<S, double>) {
    test::check_gradients(sum(matmul(big_a, big_b) * big_w), big_b);
  } else {
    // float central differences cannot resolve this loss (|L| ~ 10: noise ~ eps |L| / h ~ 2e-4,
    // the size of the smaller gradients): the float heap path is checked against double instead
    Tensor<double, 40, 50> da;
    Tensor<double, 50, 3> db;
    Tensor<double, 40, 3> dw;
    da.value() = big_a.value().template cast<double>();
    db.value() = big_b.value().template cast<double>();
    dw.value() = big_w.value().template cast<double>();
    const Eigen::MatrixXd reference = grad(sum(matmul(da, db) * dw), db)[db];
    const Eigen::MatrixXd single = grad(sum(matmul(big_a, big_b) * big_w), big_b)[big_b].template cast<double>();
    BOOST_TEST((single - reference).norm() <= 1e-5 * reference.norm());
  }
}
