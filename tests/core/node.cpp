// core/leaf.hpp and core/node.hpp: what an expression holds, and that it is safe under auto.
#define BOOST_TEST_MODULE core_node
#include "tapeless/tapeless.hpp"

#include <boost/test/unit_test.hpp>

#include <type_traits>

using namespace tapeless;

using T22 = Tensor<double, 2, 2>;

BOOST_AUTO_TEST_CASE(leaves_by_reference_inner_nodes_by_value) {
  T22 a, b;
  auto e = a * b + a;
  using Mul = Node<ops::Mul<ops::Broadcast::none>, Var<T22>, Var<T22>>;
  static_assert(std::is_same_v<decltype(e), Node<ops::Add<ops::Broadcast::none>, Mul, Var<T22>>>);
  // a variable is a pointer-sized handle, not a copy of the tensor
  static_assert(sizeof(Var<T22>) == sizeof(void*));
  BOOST_TEST(boost::hana::at_c<1>(e.args).tensor == &a);
  // an empty op costs nothing
  static_assert(sizeof(Mul) == 2 * sizeof(void*));
}

BOOST_AUTO_TEST_CASE(temporaries_and_numbers_are_held_by_value) {
  T22 a{{1, 2}, {3, 4}};
  auto e = a * T22{{2, 2}, {2, 2}} + 1.0;  // the temporary tensor and 1.0 become constants
  using E = decltype(e);
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(boost::hana::at_c<1>(e.args))>, Constant<double, 1, 1>>);
  static_assert(!std::is_reference_v<std::tuple_element_t<0, std::tuple<E>>>);
  BOOST_TEST((eval(e) == (Eigen::Matrix2d() << 3, 5, 7, 9).finished()));
}

namespace {
// Builds a nested expression inside a function from temporaries; only the tensors outlive it.
auto build(const T22& a, const T22& b) {
  auto inner = exp(a) * b;
  auto middle = inner + a * 2.0;
  return sum(middle * middle);
}
}  // namespace

BOOST_AUTO_TEST_CASE(nesting_is_safe_under_auto) {
  T22 a{{0.1, 0.2}, {0.3, 0.4}}, b{{1, 2}, {3, 4}};
  auto loss = build(a, b);  // every temporary of build() is gone; AddressSanitizer watches this
  const Eigen::Matrix2d m = (a.value().array().exp() * b.value().array() + 2 * a.value().array()).matrix();
  BOOST_TEST(eval(loss)(0, 0) == m.squaredNorm(), boost::test_tools::tolerance(1e-12));
  auto g = grad(loss, a, b);
  BOOST_TEST(g[b].isApprox((2 * m.array() * a.value().array().exp()).matrix()));
}

BOOST_AUTO_TEST_CASE(compile_time_shapes) {
  Tensor<float, dynamic, 784> x;
  Tensor<float, 784, 256> w;
  Tensor<float, 1, 256> b;
  auto z = affine(x, w, b);
  static_assert(dims_v<decltype(z)> == Dims{dynamic, 256});
  static_assert(std::is_same_v<scalar_t<decltype(z)>, float>);
  static_assert(dims_v<decltype(sum(z))> == Dims{1, 1});
}
