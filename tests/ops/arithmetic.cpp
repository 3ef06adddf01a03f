// The elementwise arithmetic ops (ops/add.hpp, sub, mul, div), from one table: each row's value
// and both partial derivatives at one point, known exactly, a number broadcast on either side,
// and the adjoints against central finite differences in float and double, with fixed shapes and
// with a run-time batch, tensor with tensor and tensor with a 1x1 scalar on either side.
#define BOOST_TEST_MODULE ops_arithmetic
#include "tapeless/ops/add.hpp"
#include "tapeless/ops/div.hpp"
#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/sub.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

using namespace tapeless;

namespace rows {
// A row: the op, where its second operand is drawn from (div keeps away from 0), and its value
// and partial derivatives at a = 6, b = 3.
struct add {
  static auto f(auto&& a, auto&& b) { return a + b; }
  static constexpr double lo = -1, hi = 1, value = 9, da = 1, db = 1;
};
struct sub {
  static auto f(auto&& a, auto&& b) { return a - b; }
  static constexpr double lo = -1, hi = 1, value = 3, da = 1, db = -1;
};
struct mul {
  static auto f(auto&& a, auto&& b) { return a * b; }
  static constexpr double lo = -1, hi = 1, value = 18, da = 3, db = 6;
};
struct div {
  static auto f(auto&& a, auto&& b) { return a / b; }
  static constexpr double lo = 1, hi = 2, value = 2, da = 1.0 / 3, db = -6.0 / 9;
};
}  // namespace rows

using table = boost::mpl::list<rows::add, rows::sub, rows::mul, rows::div>;

namespace {
template <class Row, class S, int R>
void check_differences(Index rows) {
  Tensor<S, R, 4> a, b, w;
  if constexpr (R == dynamic) a.resize(rows), b.resize(rows), w.resize(rows);
  Scalar<S> s{S(1.3)};
  test::randomize(a), test::randomize(b, Row::lo, Row::hi), test::randomize(w);
  test::check_gradients(sum(Row::f(a, b) * w), a, b);
  test::check_gradients(sum(Row::f(s, b) * w) + sum(Row::f(a, s) * w), a, b, s);
}
}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(known_value_and_partial_derivatives, Row, table) {
  Scalar<double> a{6}, b{3};
  auto g = grad(Row::f(a, b), a, b);
  BOOST_TEST(g.scalar() == Row::value);
  BOOST_TEST(std::abs(g[a](0, 0) - Row::da) <= 1e-15 * std::abs(Row::da));
  BOOST_TEST(std::abs(g[b](0, 0) - Row::db) <= 1e-15 * std::abs(Row::db));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_number_broadcasts_on_either_side, Row, table) {
  Tensor<double, 1, 2> a{{6, 12}};
  const Eigen::RowVector2d left = eval(Row::f(a, 3.0)), right = eval(Row::f(6.0, a));
  for (Index j = 0; j < 2; ++j) {
    Scalar<double> x{a(0, j)}, six{6}, three{3};
    BOOST_TEST(left(0, j) == eval(Row::f(x, three))(0, 0));
    BOOST_TEST(right(0, j) == eval(Row::f(six, x))(0, 0));
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences_fixed_and_runtime_batch, Row, table) {
  check_differences<Row, double, 3>(3);
  check_differences<Row, float, 3>(3);
  check_differences<Row, double, dynamic>(5);
  check_differences<Row, float, dynamic>(5);
}
