// The engine: worked examples of the reference notes, fan-out, shared sub-expressions, identity
// of constants, run-time batches, and an MLP against a hand-written backward pass.
#define BOOST_TEST_MODULE engine_program
#include "tapeless/tapeless.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>

using namespace tapeless;

namespace {
// An identity op that counts how often the engine calls it.
struct Counted {
  static inline int forwards = 0;
  static inline int backwards = 0;
  static constexpr Dims shape(Dims x) { return x; }
  template <class Y, class X>
  void forward(Y& y, const X& x) const {
    ++forwards;
    y = x;
  }
  template <class D, class G, class Y, class X>
  void backward(D& d, const G& g, const Y&, const X&) const {
    ++backwards;
    d[arg<0>] += g;
  }
};
template <class X>
auto counted(X&& x) {
  return make_node(Counted{}, std::forward<X>(x));
}
}  // namespace

BOOST_AUTO_TEST_CASE(apple_orange_tax_graph) {
  // Reference notes (003): apple 100 x 2, orange 150 x 3, tax 1.1.
  Scalar<double> apple{100}, apple_num{2}, orange{150}, orange_num{3}, tax{1.1};
  auto price = (apple * apple_num + orange * orange_num) * tax;
  auto g = grad(price, apple, apple_num, orange, orange_num, tax);
  BOOST_TEST(g.scalar() == 715.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(g[apple](0, 0) == 2.2, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(g[apple_num](0, 0) == 110.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(g[orange](0, 0) == 3.3, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(g[orange_num](0, 0) == 165.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(g[tax](0, 0) == 650.0, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(leaf_on_two_paths_sums_its_adjoints) {
  // Reference notes (002): w = x*y + x, loss = w^2 at x=2, y=3.
  Scalar<double> x{2.0}, y{3.0};
  auto w = x * y + x;
  auto g = grad(square(w), x, y);
  BOOST_TEST(g.scalar() == 64.0);
  BOOST_TEST(g[x](0, 0) == 64.0);
  BOOST_TEST(g[y](0, 0) == 32.0);
  // the same tensor requested twice gets the same gradient twice
  auto g2 = grad(square(w), x, x);
  BOOST_TEST(g2.gradient<0>()(0, 0) == 64.0);
  BOOST_TEST(g2.gradient<1>()(0, 0) == 64.0);
}

BOOST_AUTO_TEST_CASE(shared_subexpression_is_computed_once) {
  Scalar<double> x{2.0}, y{3.0};
  auto z = counted(x * y);  // z = 6
  auto loss = z * z + z;    // 42; dloss/dz = 2z + 1 = 13
  Counted::forwards = Counted::backwards = 0;
  auto g = grad(loss, x, y);
  BOOST_TEST(Counted::forwards == 1);
  BOOST_TEST(Counted::backwards == 1);
  BOOST_TEST(g.scalar() == 42.0);
  BOOST_TEST(g[x](0, 0) == 39.0);  // 13 * y
  BOOST_TEST(g[y](0, 0) == 26.0);  // 13 * x
  g.run();
  BOOST_TEST(Counted::forwards == 2);
  BOOST_TEST(Counted::backwards == 2);
}

BOOST_AUTO_TEST_CASE(same_type_different_leaves_are_different_nodes) {
  // counted(x*y) and counted(y*x) share a type but not their leaves: both are computed.
  Scalar<double> x{2.0}, y{3.0}, u{5.0}, v{7.0};
  auto loss = counted(x * y) + counted(u * v);
  Counted::forwards = 0;
  auto g = grad(loss, x, u);
  BOOST_TEST(Counted::forwards == 2);
  BOOST_TEST(g.scalar() == 41.0);
  BOOST_TEST(g[x](0, 0) == 3.0);
  BOOST_TEST(g[u](0, 0) == 7.0);
}

BOOST_AUTO_TEST_CASE(constants_of_one_type_keep_their_identity) {
  // x * 2 and x * 3 have the same C++ type; they must not be merged.
  Scalar<double> x{1.5};
  auto g = grad(x * 2.0 + x * 3.0, x);
  BOOST_TEST(g.scalar() == 7.5);
  BOOST_TEST(g[x](0, 0) == 5.0);
  // while x * 2 written twice is one node
  Program p(as_expr(x * 2.0 + x * 2.0), x);
  p.run();
  BOOST_TEST(p[x](0, 0) == 4.0);
  BOOST_TEST(p.is_alias(5));  // post-order: x, 2, x*2, x, 2, x*2 (alias of 2), +
}

BOOST_AUTO_TEST_CASE(shared_refers_to_that_node_not_to_its_type) {
  // relu(a) and relu(b) have one type; shared(ra) must read ra, not the nearer relu(b).
  Tensor<double, 1, 3> a, b;
  a.value() << 1, -2, 3;
  b.value() << -4, 5, 6;
  auto ra = relu(a);
  auto g = grad(sum((ra + relu(b)) + shared(ra)), a, b);
  BOOST_TEST(g.scalar() == 19.0);  // 2 (1 + 0 + 3) + (0 + 5 + 6)
  BOOST_TEST(g[a](0, 0) == 2.0);
  BOOST_TEST(g[a](0, 1) == 0.0);
  BOOST_TEST(g[a](0, 2) == 2.0);
  BOOST_TEST(g[b](0, 0) == 0.0);
  BOOST_TEST(g[b](0, 1) == 1.0);
  BOOST_TEST(g[b](0, 2) == 1.0);
  // the other order: the reference is the farther node of its type
  auto rb = relu(b);
  auto h = grad(sum((ra + rb) + shared(rb)), a, b);
  BOOST_TEST(h.scalar() == 26.0);  // (1 + 0 + 3) + 2 (0 + 5 + 6)
  BOOST_TEST(h[a](0, 0) == 1.0);
  BOOST_TEST(h[b](0, 2) == 2.0);
}

BOOST_AUTO_TEST_CASE(shared_tells_constants_apart) {
  Tensor<double, 1, 2> x;
  x.value() << 1, 2;
  auto twice = x * 2.0;
  auto g = grad(sum(twice + x * 3.0 + shared(twice)), x);  // 2x + 3x + 2x
  BOOST_TEST(g.scalar() == 21.0);
  BOOST_TEST(g[x](0, 1) == 7.0);
}

BOOST_AUTO_TEST_CASE(shared_of_a_node_outside_the_expression_throws) {
  Tensor<double, 1, 3> a, b;
  a.value() << 1, -2, 3;
  b.value() << -4, 5, 6;
  auto ra = relu(a);
  auto rb = relu(b);
  // rb's type appears to the left, but rb itself does not: never bind to another node
  BOOST_CHECK_EXCEPTION(grad(sum(ra + shared(rb)), a), std::invalid_argument, [](const std::invalid_argument& e) {
    return std::string(e.what()).find("tapeless::shared") != std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(ambiguous_shared_reference_throws) {
  // u1 and u2 differ only in the Shared leaves inside them: a reference to either is ambiguous.
  Tensor<double, 1, 2> a, b;
  a.value() << 1, 2;
  b.value() << 3, 4;
  auto r1 = relu(a);
  auto u1 = exp(shared(r1));
  auto r2 = relu(b);
  auto u2 = exp(shared(r2));
  auto left = (r1 + u1) + (r2 + u2);
  BOOST_CHECK_EXCEPTION(grad(sum(left + shared(u1)), a), std::invalid_argument, [](const std::invalid_argument& e) {
    return std::string(e.what()).find("ambiguous") != std::string::npos;
  });
  // without the second candidate it is not ambiguous: d/da sum(r1 + 2 exp(r1)) = 1 + 2 exp(a)
  auto g = grad(sum((r1 + u1) + shared(u1)), a);
  BOOST_TEST(g[a](0, 0) == 1.0 + 2.0 * std::exp(1.0), boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(program_reruns_after_tensors_change) {
  Scalar<double> x{2.0}, y{3.0};
  auto g = grad(square(x * y + x), x, y);
  x.value()(0, 0) = 1.0;  // w = 4, loss 16, dx = 2w(y+1) = 32, dy = 2w x = 8
  g.run();
  BOOST_TEST(g.scalar() == 16.0);
  BOOST_TEST(g[x](0, 0) == 32.0);
  BOOST_TEST(g[y](0, 0) == 8.0);
}

BOOST_AUTO_TEST_CASE(gradient_of_a_tensor_not_requested_throws) {
  Scalar<double> x{2.0}, y{3.0}, other{1.0};
  auto g = grad(x * y, x);
  BOOST_CHECK_THROW(g[other], std::invalid_argument);
}

namespace {
template <int Batch>
struct TwoLayer {
  Tensor<double, Batch, 10> x;
  Tensor<double, 10, 20> w1;
  Tensor<double, 1, 20> b1;
  Tensor<double, 20, 3> w2;
  Tensor<double, 1, 3> b2;
  Tensor<int, Batch, 1> labels;
  explicit TwoLayer(Index batch) {
    if constexpr (Batch == dynamic) {
      x.resize(batch);
      labels.resize(batch);
    }
    test::randomize(x);
    test::randomize(w1, -0.5, 0.5);
    test::randomize(b1, -0.1, 0.1);
    test::randomize(w2, -0.5, 0.5);
    test::randomize(b2, -0.1, 0.1);
    for (Index i = 0; i < labels.rows(); ++i) labels(i, 0) = static_cast<int>(i % 3);
  }
  // Reference notes (001, manual_backward): the textbook two-layer backward pass.
  void expect_hand_written(const auto& g) const {
    const Index n = x.rows();
    const Eigen::MatrixXd z1 = (x.value() * w1.value()).rowwise() + b1.value().row(0);
    const Eigen::MatrixXd a1 = z1.cwiseMax(0.0);
    const Eigen::MatrixXd z2 = (a1 * w2.value()).rowwise() + b2.value().row(0);
    Eigen::MatrixXd p = z2;
    for (Index i = 0; i < n; ++i) {
      p.row(i) = (z2.row(i).array() - z2.row(i).maxCoeff()).exp();
      p.row(i) /= p.row(i).sum();
    }
    Eigen::MatrixXd dz2 = p;
    double loss = 0;
    for (Index i = 0; i < n; ++i) {
      loss -= std::log(p(i, labels(i, 0)));
      dz2(i, labels(i, 0)) -= 1.0;
    }
    loss /= static_cast<double>(n);
    dz2 /= static_cast<double>(n);
    const Eigen::MatrixXd dw2 = a1.transpose() * dz2;
    const Eigen::MatrixXd db2 = dz2.colwise().sum();
    const Eigen::MatrixXd da1 = dz2 * w2.value().transpose();
    const Eigen::MatrixXd dz1 = da1.array() * (z1.array() > 0).cast<double>();
    const Eigen::MatrixXd dw1 = x.value().transpose() * dz1;
    const Eigen::MatrixXd db1 = dz1.colwise().sum();
    BOOST_TEST(g.scalar() == loss, boost::test_tools::tolerance(1e-12));
    BOOST_TEST((g[w1] - dw1).norm() <= 1e-12 * (1 + dw1.norm()));
    BOOST_TEST((g[b1] - db1).norm() <= 1e-12 * (1 + db1.norm()));
    BOOST_TEST((g[w2] - dw2).norm() <= 1e-12 * (1 + dw2.norm()));
    BOOST_TEST((g[b2] - db2).norm() <= 1e-12 * (1 + db2.norm()));
  }
};
}  // namespace

BOOST_AUTO_TEST_CASE(two_layer_relu_mlp_matches_hand_written_backprop) {
  TwoLayer<4> net(4);
  auto fused = softmax_cross_entropy(affine(relu(affine(net.x, net.w1, net.b1)), net.w2, net.b2), net.labels);
  net.expect_hand_written(grad(fused, net.w1, net.b1, net.w2, net.b2));
  auto unfused = softmax_cross_entropy(bias_add(matmul(relu(bias_add(matmul(net.x, net.w1), net.b1)), net.w2), net.b2),
                                       net.labels);
  net.expect_hand_written(grad(unfused, net.w1, net.b1, net.w2, net.b2));
}

BOOST_AUTO_TEST_CASE(runtime_batch_follows_the_inputs) {
  TwoLayer<dynamic> net(5);
  auto loss = softmax_cross_entropy(affine(relu(affine(input(net.x), net.w1, net.b1)), net.w2, net.b2), net.labels);
  auto g = grad(loss, net.w1, net.b1, net.w2, net.b2);
  net.expect_hand_written(g);
  net.x.resize(9);
  net.labels.resize(9);
  test::randomize(net.x);
  for (Index i = 0; i < 9; ++i) net.labels(i, 0) = static_cast<int>((i * 7) % 3);
  g.run();
  net.expect_hand_written(g);
}

BOOST_AUTO_TEST_CASE(runtime_shape_mismatch_is_named_and_changes_no_gradient) {
  TwoLayer<dynamic> net(5);
  auto loss = softmax_cross_entropy(affine(relu(affine(input(net.x), net.w1, net.b1)), net.w2, net.b2), net.labels);
  auto g = grad(loss, net.w1, net.b1, net.w2, net.b2);
  const Eigen::MatrixXd before = g[net.w1];
  net.labels.resize(6);  // 5 rows of logits, 6 labels
  try {
    g.run();
    BOOST_FAIL("a batch mismatch must throw");
  } catch (const shape_error& e) {
    BOOST_TEST(std::string(e.what()) == "tapeless: softmax_cross_entropy: operand shapes 5x3 and 6x1 do not fit");
  }
  BOOST_TEST((g[net.w1] == before));
  // again, with the same shapes: the failed sizing is not taken for a good one (a forward pass
  // skips the sizing walk only when every leaf has the shape of the last successful sizing)
  BOOST_CHECK_THROW(g.run(), shape_error);
  BOOST_TEST((g[net.w1] == before));
  net.labels.resize(5);  // fits again
  for (Index i = 0; i < 5; ++i) net.labels(i, 0) = static_cast<int>(i % 3);
  g.run();
  net.expect_hand_written(g);
}

BOOST_AUTO_TEST_CASE(an_unchanged_runtime_batch_is_not_resized_and_a_changed_one_is) {
  TwoLayer<dynamic> net(5);
  auto loss = softmax_cross_entropy(affine(relu(affine(input(net.x), net.w1, net.b1)), net.w2, net.b2), net.labels);
  auto g = grad(loss, net.w1, net.b1, net.w2, net.b2);
  for (Index rows : {5, 5, 2, 2, 7, 5}) {
    net.x.resize(rows);
    net.labels.resize(rows);
    test::randomize(net.x);
    for (Index i = 0; i < rows; ++i) net.labels(i, 0) = static_cast<int>((i * 5) % 3);
    g.run();
    BOOST_TEST_INFO("batch " << rows);
    net.expect_hand_written(g);
  }
}

BOOST_AUTO_TEST_CASE(every_op_composes_under_finite_differences) {
  Tensor<double, 3, 4> a;
  Tensor<double, 4, 2> b;
  Tensor<double, 1, 2> c;
  Scalar<double> s{0.7};
  test::randomize(a, 0.2, 1.0);
  test::randomize(b);
  test::randomize(c);
  auto h = tanh(bias_add(matmul(exp(a) / (a + 2.0) - s * a, b), c));
  auto loss = mean(square(sigmoid(h) - 0.5)) + sum(log_softmax(h) * 0.1) - sum(softmax(-h)) * s;
  test::check_gradients(loss, a, b, c, s);
}

BOOST_AUTO_TEST_CASE(requesting_a_tensor_the_loss_does_not_differentiate_throws) {
  // t has the type of z, so only the run-time identity tells that t is a target (data) here.
  Tensor<double, 2, 3> z, t, unused;
  BOOST_CHECK_THROW(grad(softmax_cross_entropy(z, t), z, t), std::invalid_argument);
  BOOST_CHECK_THROW(grad(sum(z * 2.0), z, unused), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(gradient_with_respect_to_a_batch_follows_its_size) {
  Tensor<double, dynamic, 2> x(3);
  test::randomize(x);
  auto g = grad(sum(square(x)), x);  // d/dx = 2x
  BOOST_TEST((g[x] - 2 * x.value()).norm() == 0.0);
  x.resize(5);
  test::randomize(x);
  g.run();
  BOOST_TEST(g[x].rows() == 5);
  BOOST_TEST((g[x] - 2 * x.value()).norm() == 0.0);
}
