// core/node.hpp: the op protocol, used from outside the library as a user would, with public
// names only (no tapeless::detail): a user matrix product with a workspace of `Product`s and a
// `reserve`, a row-wise op with `WorkspaceLike`, and an op with a data operand on the left.
#include "support/eigen_guard.hpp"  // before Eigen: its heap guard on in Release too
#define BOOST_TEST_MODULE core_op_protocol
#include "tapeless/tapeless.hpp"

#include "support/allocation_counter.hpp"
#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <string_view>
#include <utility>

namespace user {
using tapeless::Dims;

/// y = a^T b (a: m x k, b: m x n), written against the public protocol.
/// Adjoint: da += b g^T,  db += a g.
struct TransposedProduct {
  static constexpr std::string_view name = "transposed_product";
  static constexpr Dims shape(Dims a, Dims b) { return {a.cols, b.cols}; }
  static constexpr bool valid(Dims a, Dims b) { return tapeless::dims_fit(a.rows, b.rows); }
  template <class S, Dims, Dims>
  struct workspace {
    tapeless::Product<S> forward, da, db;
  };
  template <class W>
  static void reserve(W& w, Dims a, Dims b) {
    w.forward.reserve(a.cols, b.cols, a.rows);
    w.da.reserve(a.rows, a.cols, b.cols);
    w.db.reserve(b.rows, b.cols, a.cols);
  }
  template <class Y, class W, class A, class B>
  void forward(Y& y, W& w, const A& a, const B& b) const {
    w.forward.assign(y, a.transpose(), b);
  }
  template <class D, class G, class Y, class W, class A, class B>
  void backward(D& d, const G& g, const Y&, W& w, const A& a, const B& b) const {
    d[tapeless::arg<0>].add_product(b, g.transpose(), w.da);
    d[tapeless::arg<1>].add_product(a, g, w.db);
  }
};
template <class A, class B>
auto transposed_product(A&& a, B&& b) {
  return tapeless::make_node(TransposedProduct{}, std::forward<A>(a), std::forward<B>(b));
}

/// y = c .* x with c data (not differentiable), c the FIRST operand. Adjoint: dx += c .* g.
struct ScaledBy {
  static constexpr Dims shape(Dims, Dims x) { return x; }
  static constexpr bool valid(Dims c, Dims x) { return tapeless::dims_fit(c, x); }
  static constexpr bool differentiable(std::size_t k) { return k == 1; }
  template <class Y, class C, class X>
  void forward(Y& y, const C& c, const X& x) const {
    y = c.cwiseProduct(x);
  }
  template <class D, class G, class Y, class C, class X>
  void backward(D& d, const G& g, const Y&, const C& c, const X&) const {
    d[tapeless::arg<1>] += c.cwiseProduct(g);
  }
};
template <class C, class X>
auto scaled_by(C&& c, X&& x) {
  return tapeless::make_node(ScaledBy{}, std::forward<C>(c), std::forward<X>(x));
}
}  // namespace user

using namespace tapeless;

BOOST_AUTO_TEST_CASE(a_user_product_op_is_right_at_a_runtime_batch_without_allocating) {
  Tensor<double, dynamic, 40> a(30);
  Tensor<double, dynamic, 50> b(30);
  test::randomize(a);
  test::randomize(b);
  auto g = grad(sum(square(user::transposed_product(a, b))), a, b);
  auto agree = [&] {  // L = sum(y^2), y = a^T b: dL/dy = 2y, da = b (2y)^T, db = a (2y)
    const Eigen::MatrixXd y = a.value().transpose() * b.value();
    const Eigen::MatrixXd da = b.value() * (2 * y).transpose(), db = a.value() * (2 * y);
    BOOST_TEST(std::abs(g.scalar() - y.squaredNorm()) <= 1e-12 * y.squaredNorm());
    BOOST_TEST((g[a] - da).norm() <= 1e-12 * da.norm());
    BOOST_TEST((g[b] - db).norm() <= 1e-12 * db.norm());
  };
  agree();
  Tensor<double, dynamic, 5> small_a(6);  // central differences resolve a small loss
  Tensor<double, dynamic, 4> small_b(6);
  test::randomize(small_a);
  test::randomize(small_b);
  test::check_gradients(sum(square(user::transposed_product(small_a, small_b))), small_a, small_b);
  BOOST_TEST(test::allocations_during([&] { g.run(); }) == 0);
  a.resize(7);  // a new batch: the program sizes its storage and reserves the products again
  b.resize(7);
  test::randomize(a);
  test::randomize(b);
  g.run();
  agree();
}

BOOST_AUTO_TEST_CASE(a_data_operand_that_mentions_a_requested_tensor_adds_nothing) {
  // loss = sum(c .* W) with c = W .* W treated as data: dL/dW = W .* W exactly. Backward must not
  // walk into the data operand (whose adjoint nobody writes) and overwrite W's gradient.
  Tensor<double, 2, 3> w{{1, -2, 3}, {0.5, 4, -1}};
  auto g = grad(sum(user::scaled_by(w * w, w)), w);
  const Eigen::Matrix<double, 2, 3> expected = w.value().cwiseProduct(w.value());
  BOOST_TEST(g.scalar() == expected.cwiseProduct(w.value()).sum());
  BOOST_TEST((g[w] - expected).cwiseAbs().maxCoeff() == 0.0);
}
