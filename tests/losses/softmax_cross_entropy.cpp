// losses/softmax_cross_entropy.hpp: known values, one-hot against index targets, the textbook
// gradient (softmax - onehot) / batch, label validation, finite differences.
#define BOOST_TEST_MODULE losses_softmax_cross_entropy
#include "tapeless/losses/softmax_cross_entropy.hpp"

#include "tapeless/ops/softmax.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>

using namespace tapeless;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(uniform_logits_cost_log_n) {
  Tensor<double, 2, 4> z;  // zeros
  Tensor<int, 2, 1> labels{{1}, {3}};
  auto g = grad(softmax_cross_entropy(z, labels), z);
  BOOST_TEST(g.scalar() == std::log(4.0), tt::tolerance(1e-14));
  // (softmax - onehot) / batch = (0.25 - [j == label]) / 2
  for (Index i = 0; i < 2; ++i)
    for (Index j = 0; j < 4; ++j)
      BOOST_TEST(g[z](i, j) == (0.25 - (j == labels(i, 0) ? 1.0 : 0.0)) / 2, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(one_hot_and_index_targets_agree, S, test::scalar_types) {
  Tensor<S, 5, 3> z, one_hot;
  Tensor<int, 5, 1> labels;
  test::randomize(z, -3, 3);
  for (Index i = 0; i < 5; ++i) {
    labels(i, 0) = static_cast<int>((i * 2) % 3);
    one_hot(i, labels(i, 0)) = 1;
  }
  auto a = grad(softmax_cross_entropy(z, labels), z);
  auto b = grad(softmax_cross_entropy(z, input(one_hot)), z);
  BOOST_TEST(a.scalar() == b.scalar(), tt::tolerance(S(1e-6)));
  BOOST_TEST(a[z].isApprox(b[z]));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 4, 6> z, soft_targets;
  Tensor<int, 4, 1> labels{{0}, {5}, {2}, {2}};
  test::randomize(z, -2, 2);
  test::randomize(soft_targets, 0, 1);
  test::check_gradients(softmax_cross_entropy(z, labels), z);
  test::check_gradients(softmax_cross_entropy(z, input(soft_targets)), z);
}

BOOST_AUTO_TEST_CASE(label_out_of_range_is_named) {
  Tensor<double, 2, 3> z;
  Tensor<int, 2, 1> labels{{0}, {3}};
  try {
    grad(softmax_cross_entropy(z, labels), z);
    BOOST_FAIL("label 3 of 3 classes must throw");
  } catch (const std::out_of_range& e) {
    BOOST_TEST(std::string(e.what()) == "tapeless: softmax_cross_entropy: label 3 in row 1 is outside 0..2");
  }
}

BOOST_AUTO_TEST_CASE(probability_targets_give_softmax_minus_targets) {
  Tensor<double, 1, 3> z{{0.5, -1.0, 2.0}}, t{{0.2, 0.3, 0.5}};
  auto g = grad(softmax_cross_entropy(z, input(t)), z);
  const auto p = eval(softmax(z));
  BOOST_TEST(((g[z] - (p - t.value())).norm() < 1e-15));
}
