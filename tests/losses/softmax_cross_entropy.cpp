// losses/softmax_cross_entropy.hpp: known values, one-hot against index targets, the textbook
// gradient (softmax - onehot) / batch, label validation, finite differences.
#define BOOST_TEST_MODULE losses_softmax_cross_entropy
#include "tapeless/losses/softmax_cross_entropy.hpp"

#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/trainer.hpp"
#include "tapeless/ops/softmax.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

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

BOOST_AUTO_TEST_CASE(int64_and_byte_labels_are_class_indices) {
  Tensor<double, 3, 4> z;
  test::randomize(z, -2, 2);
  Tensor<int, 3, 1> labels{{3}, {0}, {2}};
  Tensor<std::int64_t, 3, 1> wide{{3}, {0}, {2}};
  Tensor<std::uint8_t, 3, 1> bytes{{3}, {0}, {2}};  // as IDX files store them
  auto a = grad(softmax_cross_entropy(z, labels), z);
  auto b = grad(softmax_cross_entropy(z, wide), z);
  auto c = grad(softmax_cross_entropy(z, bytes), z);
  BOOST_TEST(a.scalar() == b.scalar());
  BOOST_TEST(a.scalar() == c.scalar());
  BOOST_TEST((a[z] == b[z]));
  BOOST_TEST((a[z] == c[z]));
  // a 64-bit label is checked as it is, never truncated to int first (2^32 + 1 would be 1)
  wide(1, 0) = (std::int64_t{1} << 32) + 1;
  try {
    grad(softmax_cross_entropy(z, wide), z);
    BOOST_FAIL("label 2^32 + 1 of 4 classes must throw");
  } catch (const std::out_of_range& e) {
    BOOST_TEST(std::string(e.what()) == "tapeless: softmax_cross_entropy: label 4294967297 in row 1 is outside 0..3");
  }
}

BOOST_AUTO_TEST_CASE(a_trainer_takes_int64_labels) {
  using Net = Network<Sequential<Linear<4, 3>>, double>;
  Net a(1), b(1);
  Trainer<Net, SoftmaxCrossEntropy<>, 5> narrow(a);
  Trainer<Net, SoftmaxCrossEntropy<Targets::index, std::int64_t>, 5> wide(b);
  static_assert(std::is_same_v<decltype(wide)::target_type, Tensor<std::int64_t, 5, 1>>);
  test::randomize(narrow.inputs());
  wide.inputs() = narrow.inputs().value();
  for (Index i = 0; i < 5; ++i) {
    narrow.targets()(i, 0) = static_cast<int>(i % 3);
    wide.targets()(i, 0) = i % 3;
  }
  BOOST_TEST(narrow.compute().loss == wide.compute().loss);
  BOOST_TEST((a.gradients() == b.gradients()));
}
