// ops/tap.hpp: a tap changes nothing it passes through, records its value and adjoint, calls its
// hook during backward, summarises what it saw, and says when backward never reaches it.
#define BOOST_TEST_MODULE ops_tap
#include "tapeless/ops/tap.hpp"

#include "tapeless/ops/matmul.hpp"
#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/relu.hpp"
#include "tapeless/ops/square.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

using namespace tapeless;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 3, 4> x;
  Tensor<S, 4, 2> w;
  test::randomize(x), test::randomize(w);
  test::check_gradients(sum(square(relu(tap(matmul(x, w))))), x, w);
}

BOOST_AUTO_TEST_CASE(same_bits_as_without_the_tap) {
  Tensor<double, 5, 3> x;
  Tensor<double, 3, 4> w;
  test::randomize(x), test::randomize(w);
  auto plain = grad(sum(square(relu(matmul(x, w)))), x, w);
  auto tapped = grad(sum(square(relu(tap(matmul(x, w))))), x, w);
  BOOST_TEST(tapped.scalar() == plain.scalar());
  BOOST_TEST((tapped[x].array() == plain[x].array()).all());
  BOOST_TEST((tapped[w].array() == plain[w].array()).all());
}

BOOST_AUTO_TEST_CASE(value_and_adjoint_known) {
  // L = sum((x w)^2): the tap on z = x w sees z, and dL/dz = 2 z
  Tensor<double, 2, 2> x{{1, 2}, {3, 4}}, w{{1, 0}, {-1, 2}};
  auto g = grad(sum(square(tap(matmul(x, w)))), w);
  const auto taps = find_taps(g);
  BOOST_REQUIRE_EQUAL(taps.size(), 1u);
  const TapView<double>& t = *taps[0];
  BOOST_TEST(t.reachable());
  BOOST_TEST(t.has_gradient());
  const Eigen::Matrix2d z{{-1, 4}, {-1, 8}};
  BOOST_TEST((t.value() == z));
  BOOST_TEST((t.gradient() == Eigen::Matrix2d(2 * z)));
  // a forward pass replaces the value and forgets the adjoint
  x.value()(0, 0) = 3;  // z(0, 0) = 3 - 2
  g.forward();
  BOOST_TEST(t.value()(0, 0) == 1);
  BOOST_TEST(!t.has_gradient());
  BOOST_CHECK_THROW((void)t.gradient(), std::logic_error);
}

BOOST_AUTO_TEST_CASE(hook_sees_the_adjoint_during_backward) {
  Tensor<double, 2, 3> x;
  Tensor<double, 3, 3> w;
  test::randomize(x), test::randomize(w);
  // two taps: the outer one's backward runs first
  auto g = grad(sum(square(tap(relu(tap(matmul(x, w)))))), w);
  auto taps = find_taps(g);
  BOOST_REQUIRE_EQUAL(taps.size(), 2u);
  struct Seen {
    std::string order;
    Eigen::MatrixXd gradient;
  } seen;
  const auto hook = [](const void* context, const TapView<double>& t) {
    auto& s = *static_cast<Seen*>(const_cast<void*>(context));
    s.order += t.value().rows() == 2 ? "t" : "?";
    s.gradient = t.gradient();
  };
  taps[0]->set_hook({hook, &seen});
  taps[1]->set_hook({[](const void* context, const TapView<double>&) {
                       static_cast<Seen*>(const_cast<void*>(context))->order += "o";
                     },
                     &seen});
  g.run();
  BOOST_TEST(seen.order == "ot");  // outer (post-order last) first, as backward runs
  BOOST_TEST((seen.gradient == Eigen::MatrixXd(taps[0]->gradient())));
}

BOOST_AUTO_TEST_CASE(unreachable_tap) {
  // no requested tensor below the tap on x: backward never visits it
  Tensor<double, 2, 2> x{{1, -2}, {0, 4}}, w{{1, 0}, {0, 1}};
  auto g = grad(sum(matmul(relu(tap(input(x))), w)), w);
  const auto taps = find_taps(g);
  BOOST_REQUIRE_EQUAL(taps.size(), 1u);
  BOOST_TEST(!taps[0]->reachable());
  BOOST_TEST(!taps[0]->has_gradient());
  BOOST_TEST((taps[0]->value() == x.value()));
  try {
    (void)taps[0]->gradient();
    BOOST_FAIL("gradient() of an unreachable tap must throw");
  } catch (const std::logic_error& e) {
    BOOST_TEST(std::string(e.what()).find("backward never reaches it") != std::string::npos, e.what());
  }
  const TapSummary s = taps[0]->summary();
  BOOST_TEST(!s.has_gradient);
  BOOST_TEST(std::isnan(s.gradient_norm));
  BOOST_TEST(!s.vanishing);
  BOOST_TEST(!s.exploding);
}

BOOST_AUTO_TEST_CASE(summary_known_values) {
  // value (column-major) 0, 1, 2, 3: mean 1.5, std sqrt(5/3) (n - 1), one zero in four
  // gradient 2 z: 0, 2, 4, 6: mean 3, std sqrt(20/3), norm sqrt(56)
  Tensor<double, 2, 2> z{{0, 2}, {1, 3}};
  auto g = grad(sum(square(tap(z))), z);
  const TapSummary s = find_taps(g)[0]->summary();
  BOOST_TEST(s.count == 4);
  BOOST_TEST(s.mean == 1.5, tt::tolerance(1e-15));
  BOOST_TEST(s.stddev == std::sqrt(5.0 / 3), tt::tolerance(1e-15));
  BOOST_TEST(s.zeros == 0.25);
  BOOST_TEST(s.has_gradient);
  BOOST_TEST(s.gradient_mean == 3.0, tt::tolerance(1e-15));
  BOOST_TEST(s.gradient_stddev == std::sqrt(20.0 / 3), tt::tolerance(1e-15));
  BOOST_TEST(s.gradient_norm == std::sqrt(56.0), tt::tolerance(1e-15));
  BOOST_TEST(!s.vanishing);
  BOOST_TEST(!s.exploding);
  // the notes' flags, with the thresholds moved around the norm (7.48)
  BOOST_TEST(find_taps(g)[0]->summary(8, 100).vanishing);
  BOOST_TEST(find_taps(g)[0]->summary(1e-7, 7).exploding);
  // a non-finite gradient is exploding
  z.value()(0, 0) = std::numeric_limits<double>::infinity();
  g.run();
  BOOST_TEST(find_taps(g)[0]->summary().exploding);
}
