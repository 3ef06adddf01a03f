// check/gradient_check.hpp: it finds a wrong adjoint, names the worst coefficient, and restores
// the tensor it perturbs.
#define BOOST_TEST_MODULE check_gradient_check
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/ops/add.hpp"
#include "tapeless/ops/mul.hpp"
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

// check_gradients: one program for several tensors gives each tensor check_gradient's result, and
// finds the one tensor whose adjoint is wrong.
BOOST_AUTO_TEST_CASE(several_tensors_in_one_program_match_one_check_each) {
  Tensor<double, 2, 3> x{{1, 2, 3}, {4, 5, 6}};
  Tensor<double, 2, 3> y{{0.5, -1, 2}, {1, 3, -2}};
  auto loss = sum(square(x) * y + make_node(WrongSquare{}, y));
  const auto checks = check_gradients({.step = 1e-5, .floor = 1e-3}, loss, x, y);
  const auto alone_x = check_gradient(loss, x, 1e-5);
  const auto alone_y = check_gradient(loss, y, 1e-5);
  BOOST_TEST(checks[0].passed(1e-7), checks[0].report());
  BOOST_TEST(checks[0].max_relative_error == alone_x.max_relative_error, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(!checks[1].passed(0.1));  // y's adjoint goes through WrongSquare
  BOOST_TEST(checks[1].max_relative_error == alone_y.max_relative_error, boost::test_tools::tolerance(1e-12));
  BOOST_TEST((checks[1].row == alone_y.row && checks[1].col == alone_y.col));
  BOOST_TEST((x.value() == Eigen::Matrix<double, 2, 3>{{1, 2, 3}, {4, 5, 6}}));  // restored
}

BOOST_AUTO_TEST_CASE(every_parameter_of_a_network_by_name) {
  // WrongSquare as a layer: the parameters before it get wrong gradients, those after it do not
  Network<Sequential<Linear<3, 4>, WrongSquare, Linear<4, 2>>, double> net(2, Init::xavier);
  Tensor<double, 5, 3> x;
  test::randomize(x);
  auto loss = sum(square(net.forward(input(x))));
  const std::vector<NamedGradientCheck> checks = check_gradients({}, loss, net);
  BOOST_TEST_REQUIRE(checks.size() == 4u);
  const char* names[] = {"0.weight", "0.bias", "2.weight", "2.bias"};
  const bool right[] = {false, false, true, true};
  for (std::size_t k = 0; k < 4; ++k) {
    BOOST_TEST(checks[k].name == names[k]);
    BOOST_TEST(checks[k].check.passed(1e-6) == right[k], names[k] << ": " << checks[k].check.report());
  }
}
