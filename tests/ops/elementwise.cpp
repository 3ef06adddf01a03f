// ops/elementwise.hpp and the extension point: user ops defined outside namespace tapeless,
// through the same mechanism as the built-in ops.
#define BOOST_TEST_MODULE ops_elementwise
#include "tapeless/tapeless.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

namespace user {

// Straight-through estimator (reference notes 002): round forward, identity backward.
struct RoundSte {
  auto value(const auto& x) const { return x.round(); }
  auto derivative(const auto& x, const auto&) const { return x * 0 + 1; }
};

// Clipped identity (reference notes 002, BinaryWeight's backward): passes the gradient only
// where |x| <= 1; forward is the identity here.
struct ClippedIdentity {
  auto value(const auto& x) const { return x; }
  auto derivative(const auto& x, const auto&) const {
    using S = typename std::remove_cvref_t<decltype(x)>::Scalar;
    return (x.abs() <= S(1)).template cast<S>();
  }
};

// A whole op of the user's own, not elementwise: y = 3 * x^T (adjoint dx = 3 g^T).
struct ThreeTimesTranspose {
  static constexpr tapeless::Dims shape(tapeless::Dims x) { return {x.cols, x.rows}; }
  template <class Y, class X>
  void forward(Y& y, const X& x) const {
    y = 3 * x.transpose();
  }
  template <class D, class G, class Y, class X>
  void backward(D& d, const G& g, const Y&, const X&) const {
    d[tapeless::arg<0>] += 3 * g.transpose();
  }
};
template <class X>
auto three_times_transpose(X&& x) {
  return tapeless::make_node(ThreeTimesTranspose{}, std::forward<X>(x));
}

}  // namespace user

using namespace tapeless;

BOOST_AUTO_TEST_CASE(straight_through_estimator) {
  Tensor<double, 1, 4> w{{0.2, 0.7, -1.4, 2.5}}, c{{1, 2, 3, 4}};
  auto g = grad(sum(elementwise(user::RoundSte{}, w) * input(c)), w);
  BOOST_TEST(g.scalar() == 0 * 1 + 1 * 2 + -1 * 3 + 3 * 4);  // round half away from zero: 2.5 -> 3
  BOOST_TEST(g[w] == c.value());                             // identity backward
}

BOOST_AUTO_TEST_CASE(clipped_identity) {
  Tensor<double, 1, 4> x{{-1.5, -0.5, 1.0, 1.2}}, c{{1, 2, 3, 4}};
  auto g = grad(sum(elementwise(user::ClippedIdentity{}, x) * input(c)), x);
  BOOST_TEST((g[x] == (Eigen::RowVector4d() << 0, 2, 3, 0).finished()));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(user_node_op_under_finite_differences, S, test::scalar_types) {
  Tensor<S, 3, 2> x;
  Tensor<S, 2, 3> w;
  test::randomize(x), test::randomize(w);
  test::check_gradients(sum(user::three_times_transpose(x) * w * tanh(user::three_times_transpose(x))), x);
}

namespace {
// A mock function for the generic node: value 2x, derivative 5 + x + 10 y (deliberately not 2),
// so the test sees that the node multiplies g by derivative(x, y), passes x as x and y = value(x)
// as y: y = x, or the two swapped, give other numbers.
struct Mock {
  auto value(const auto& x) const { return 2 * x; }
  auto derivative(const auto& x, const auto& y) const { return 5 + x + 10 * y; }
};
}  // namespace

BOOST_AUTO_TEST_CASE(generic_node_with_a_mock_function) {
  Tensor<double, 1, 2> x{{1, 2}}, c{{3, 4}};
  auto g = grad(sum(elementwise(Mock{}, x) * input(c)), x);
  BOOST_TEST(g.scalar() == 2 * 3 + 4 * 4);
  // derivative at x = 1, y = 2: 5 + 1 + 20 = 26; at x = 2, y = 4: 5 + 2 + 40 = 47; times c
  BOOST_TEST((g[x] == (Eigen::RowVector2d() << 26 * 3, 47 * 4).finished()));
}
