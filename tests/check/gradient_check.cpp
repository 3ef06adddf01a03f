// check/gradient_check.hpp: it finds a wrong adjoint, names the worst coefficient, and restores
// the tensor it perturbs.
#define BOOST_TEST_MODULE check_gradient_check
#include "tapeless/ops/square.hpp"
#include "tapeless/ops/sum.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

using namespace tapeless;

namespace {
// A deliberately wrong op: forward x^2, backward claims 3x instead of 2x.
struct WrongSquare {
  static constexpr Dims shape(Dims x) { return x; }
  template <class Y, class X>
  void forward(Y& y, const X& x) const {
    y = x.array().square().matrix();
  }
  template <class D, class G, class Y, class X>
  void backward(D& d, const G& g, const Y&, const X& x) const {
    d[arg<0>] += (3 * g.array() * x.array()).matrix();
  }
};
}  // namespace

BOOST_AUTO_TEST_CASE(correct_adjoint_passes) {
  Tensor<double, 2, 3> x{{1, 2, 3}, {4, 5, 6}};
  const auto r = check_gradient(sum(square(x)), x);
  BOOST_TEST(r.passed(1e-8), r.report());
}

BOOST_AUTO_TEST_CASE(wrong_adjoint_fails_at_the_worst_coefficient) {
  Tensor<double, 2, 3> x{{1, 2, 3}, {4, 5, 6}};
  x(1, 2) = 0.001;  // all coefficients are 50% off, except this one, under the floor
  x(0, 1) = 40;
  const auto r = check_gradient(sum(make_node(WrongSquare{}, x)), x);
  BOOST_TEST(!r.passed(0.1));
  BOOST_TEST(r.max_relative_error == 1.0 / 3, boost::test_tools::tolerance(1e-6));  // |3x - 2x| / 3x
  BOOST_TEST(r.analytic == 3 * x(r.row, r.col), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(r.numeric == 2 * x(r.row, r.col), boost::test_tools::tolerance(1e-6));
  BOOST_TEST(r.report().find("worst relative error") == 0u);
}

BOOST_AUTO_TEST_CASE(tensor_is_restored_exactly) {
  Tensor<float, 3, 3> x;
  test::randomize(x);
  const Eigen::Matrix3f before = x.value();
  (void)check_gradient(sum(square(x)), x);
  BOOST_TEST((x.value() == before));
}
