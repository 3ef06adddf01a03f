// The elementwise functions (ops/exp.hpp, log, square, pow, tanh, sigmoid, relu, leaky_relu, elu,
// gelu, silu) and negation
// (ops/neg.hpp), from one table: each row's value and derivative at one point, known exactly
// (double, 1e-14), and its adjoint against central finite differences in float and double, with
// fixed shapes and with a run-time batch. Then what only one function has: relu's kink, sigmoid's
// saturation.
#define BOOST_TEST_MODULE ops_elementwise_functions
#include "tapeless/ops/elu.hpp"
#include "tapeless/ops/exp.hpp"
#include "tapeless/ops/gelu.hpp"
#include "tapeless/ops/leaky_relu.hpp"
#include "tapeless/ops/log.hpp"
#include "tapeless/ops/mul.hpp"
#include "tapeless/ops/neg.hpp"
#include "tapeless/ops/pow.hpp"
#include "tapeless/ops/relu.hpp"
#include "tapeless/ops/sigmoid.hpp"
#include "tapeless/ops/silu.hpp"
#include "tapeless/ops/square.hpp"
#include "tapeless/ops/sum.hpp"
#include "tapeless/ops/tanh.hpp"

#include "support/check.hpp"
#include "support/ulp.hpp"

#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <numbers>
#include <ratio>
#include <utility>

using namespace tapeless;

namespace rows {
// A row: the function, where central differences are taken (lo, hi: where it is smooth and
// defined), and a point x with its known value and derivative.
struct exp {
  static auto f(auto& x) { return tapeless::exp(x); }
  static constexpr double lo = -2, hi = 2, x = 0.5;
  static double value() { return std::exp(0.5); }
  static double derivative() { return std::exp(0.5); }
};
struct log {
  static auto f(auto& x) { return tapeless::log(x); }
  static constexpr double lo = 0.5, hi = 2, x = 2;
  static double value() { return std::log(2.0); }
  static double derivative() { return 0.5; }
};
struct square {
  static auto f(auto& x) { return tapeless::square(x); }
  static constexpr double lo = -2, hi = 2, x = -3;
  static double value() { return 9; }
  static double derivative() { return -6; }
};
struct pow {
  static auto f(auto& x) { return tapeless::pow(x, 1.5); }
  static constexpr double lo = 0.5, hi = 2, x = 4;
  static double value() { return 8; }
  static double derivative() { return 3; }  // 1.5 * 4^0.5
};
struct tanh {
  static auto f(auto& x) { return tapeless::tanh(x); }
  static constexpr double lo = -2, hi = 2, x = 0.3;
  static double value() { return std::tanh(0.3); }
  static double derivative() { return 1 - std::tanh(0.3) * std::tanh(0.3); }
};
struct sigmoid {
  static auto f(auto& x) { return tapeless::sigmoid(x); }
  static constexpr double lo = -4, hi = 4, x = 0;
  static double value() { return 0.5; }
  static double derivative() { return 0.25; }
};
struct relu {  // differences are taken away from the kink (moved off [-0.1, 0.1])
  static auto f(auto& x) { return tapeless::relu(x); }
  static constexpr double lo = -2, hi = 2, x = 1.5;
  static double value() { return 1.5; }
  static double derivative() { return 1; }
};
struct leaky_relu {  // differences are taken away from the kink
  static auto f(auto& x) { return tapeless::leaky_relu(x); }
  static constexpr double lo = -2, hi = 2, x = -3;
  static double value() { return -0.03; }
  static double derivative() { return 0.01; }
};
struct leaky_relu_steep {  // a slope above 1 too: not max(x, s x)
  static auto f(auto& x) { return tapeless::leaky_relu<std::ratio<3, 2>>(x); }
  static constexpr double lo = -2, hi = 2, x = -2;
  static double value() { return -3; }
  static double derivative() { return 1.5; }
};
struct elu {
  static auto f(auto& x) { return tapeless::elu(x); }
  static constexpr double lo = -3, hi = 2, x = -1;
  static double value() { return std::expm1(-1.0); }
  static double derivative() { return std::exp(-1.0); }
};
struct gelu {  // at x = 1: Phi(1) = 0.8413447460685429 (tables), phi(1) = 0.24197072451914337
  static auto f(auto& x) { return tapeless::gelu(x); }
  static constexpr double lo = -3, hi = 3, x = 1;
  static double value() { return 0.8413447460685429; }
  static double derivative() { return 0.8413447460685429 + 0.24197072451914337; }
};
struct silu {  // at x = 2: s = 1 / (1 + e^-2)
  static auto f(auto& x) { return tapeless::silu(x); }
  static constexpr double lo = -4, hi = 4, x = 2;
  static double s() { return 1 / (1 + std::exp(-2.0)); }
  static double value() { return 2 * s(); }
  static double derivative() { return s() * (1 + 2 * (1 - s())); }
};
struct neg {
  static auto f(auto& x) { return -x; }
  static constexpr double lo = -2, hi = 2, x = 2;
  static double value() { return -2; }
  static double derivative() { return -1; }
};
}  // namespace rows

using table = boost::mpl::list<rows::exp, rows::log, rows::square, rows::pow, rows::tanh, rows::sigmoid, rows::relu,
                               rows::leaky_relu, rows::leaky_relu_steep, rows::elu, rows::gelu, rows::silu, rows::neg>;

namespace {
// Random values in [lo, hi), moved off [-0.1, 0.1] where a kink could sit.
template <class Row, class T>
void fill(T& x) {
  test::randomize(x, Row::lo, Row::hi);
  using S = typename T::scalar_type;
  x.value() = x.value().unaryExpr([](S v) { return v < 0 ? v - S(0.1) : v + S(0.1); });
  if (Row::lo > 0) x.value() = x.value().cwiseMax(S(Row::lo));
}

template <class Row, class S>
void check_differences() {
  Tensor<S, 3, 4> x, w;  // fixed shapes
  fill<Row>(x);
  test::randomize(w);
  test::check_gradients(sum(Row::f(x) * w), x);
  Tensor<S, dynamic, 4> xb(5), wb(5);  // a run-time batch of 5 rows
  fill<Row>(xb);
  test::randomize(wb);
  test::check_gradients(sum(Row::f(xb) * wb), xb);
}
}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(known_value_and_derivative, Row, table) {
  Scalar<double> x{Row::x};
  auto g = grad(Row::f(x), x);
  BOOST_TEST(std::abs(g.scalar() - Row::value()) <= 1e-14 * std::abs(Row::value()));
  BOOST_TEST(std::abs(g[x](0, 0) - Row::derivative()) <= 1e-14 * std::abs(Row::derivative()));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences_fixed_and_runtime_batch, Row, table) {
  check_differences<Row, double>();
  check_differences<Row, float>();
}

BOOST_AUTO_TEST_CASE(relu_derivative_at_the_kink_is_zero_as_in_pytorch) {
  // relu'(0) is a convention: 0, as torch.relu's backward gives (and as the notes' mask x > 0).
  Tensor<double, 1, 3> x{{-0.0, 0.0, 1e-300}};
  auto g = grad(sum(relu(x)), x);
  BOOST_TEST((g[x] == (Eigen::RowVector3d() << 0, 0, 1).finished()));
}

BOOST_AUTO_TEST_CASE(leaky_relu_and_elu_at_the_kink_as_in_pytorch) {
  // leaky_relu'(0) = slope and elu'(0) = 1, as torch's backward gives
  Tensor<double, 1, 3> x{{-0.0, 0.0, 1e-300}};
  auto g = grad(sum(leaky_relu(x)), x);
  BOOST_TEST((g[x] == (Eigen::RowVector3d() << 0.01, 0.01, 1).finished()));
  auto e = grad(sum(elu(x)), x);
  BOOST_TEST((e[x] == (Eigen::RowVector3d() << 1, 1, 1).finished()));
}

BOOST_AUTO_TEST_CASE(gelu_and_silu_saturate_without_overflow) {
  Tensor<float, 1, 4> x{{-100.f, -20.f, 20.f, 100.f}};
  auto g = grad(sum(gelu(x)), x);
  auto s = grad(sum(silu(x)), x);
  BOOST_TEST(std::isfinite(g.scalar()));
  BOOST_TEST(g[x].allFinite());
  BOOST_TEST(std::isfinite(s.scalar()));
  BOOST_TEST(s[x].allFinite());
  BOOST_TEST(eval(gelu(x))(0, 3) == 100.f);
  BOOST_TEST(eval(silu(x))(0, 3) == 100.f);
  BOOST_TEST(g[x](0, 0) == 0.f);  // -100 phi(-100) underflows to 0, not NaN
}

BOOST_AUTO_TEST_CASE(relu_passes_no_gradient_to_negative_inputs) {
  Tensor<double, 1, 4> x{{-2, -0.5, 0.5, 2}};
  auto g = grad(sum(relu(x)), x);
  BOOST_TEST(g.scalar() == 2.5);
  BOOST_TEST((g[x] == (Eigen::RowVector4d() << 0, 0, 1, 1).finished()));
}

BOOST_AUTO_TEST_CASE(sigmoid_saturates_without_overflow) {
  Tensor<float, 1, 2> x{{-100.f, 100.f}};
  const auto y = eval(sigmoid(x));
  BOOST_TEST(y(0, 0) >= 0.f);
  BOOST_TEST(y(0, 0) <= 1e-40f);  // e^-100 is below float's smallest subnormal: 0, not NaN
  BOOST_TEST(y(0, 1) == 1.f);
}

// The vectorised values of tanh and sigmoid against libm in long double, over the whole range
// (evenly spaced points, then magnitudes from the smallest subnormal up, both signs): within a few
// ulp where the result is a normal number, within the smallest normal number below that (Eigen's
// exp flushes there), exact at the ends (+-0, +-inf, saturation) and NaN in, NaN out.
namespace {
template <class S, class F, class Exact>
void check_accuracy(const char* name, F f, Exact exact, double lo, double hi, double max_ulp) {
  const auto x = test_support::sweep_points<S>(lo, hi, 1e30, 200001);
  const Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, 1>> in(x.data(), static_cast<Eigen::Index>(x.size()));
  const Eigen::Array<S, Eigen::Dynamic, 1> out = f.value(in);
  double worst = 0, at = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const S got = out(static_cast<Eigen::Index>(i));
    const long double want = exact(static_cast<long double>(x[i]));
    if (std::fabs(want) < std::numeric_limits<S>::min()) {
      BOOST_TEST(std::fabs(got - want) <= std::numeric_limits<S>::min(), name << "(" << x[i] << ") = " << got);
      continue;
    }
    const double e = test_support::ulp_error<S>(got, want);
    if (!(e <= worst)) worst = e, at = static_cast<double>(x[i]);
  }
  BOOST_TEST_MESSAGE(name << " (" << (sizeof(S) == 4 ? "float" : "double") << "): worst " << worst << " ulp at " << at);
  BOOST_TEST(worst <= max_ulp, name << " is off by " << worst << " ulp at x = " << at);
  // the ends
  constexpr S inf = std::numeric_limits<S>::infinity();
  Eigen::Array<S, 5, 1> ends;
  ends << S(0), -inf, inf, std::numeric_limits<S>::quiet_NaN(), S(-0.0);
  const Eigen::Array<S, 5, 1> v = f.value(ends);
  BOOST_TEST(v(0) == S(exact(0)));
  BOOST_TEST(v(1) == S(exact(-INFINITY)));
  BOOST_TEST(v(2) == S(exact(INFINITY)));
  BOOST_TEST(std::isnan(v(3)));
}
}  // namespace

BOOST_AUTO_TEST_CASE(tanh_and_sigmoid_are_accurate_over_the_whole_range) {
  auto tanh_exact = [](long double v) { return std::tanh(v); };
  auto sigmoid_exact = [](long double v) { return 1 / (1 + std::exp(-v)); };
  check_accuracy<float>("tanh", Tanh{}, tanh_exact, -12, 12, 6);   // Eigen's rational approximation
  check_accuracy<double>("tanh", Tanh{}, tanh_exact, -25, 25, 3);  // detail/tanh.hpp
  check_accuracy<float>("sigmoid", Sigmoid{}, sigmoid_exact, -110, 30, 5);
  check_accuracy<double>("sigmoid", Sigmoid{}, sigmoid_exact, -750, 40, 5);
  // tanh is odd to the bit, including zero's sign
  Eigen::Array4d x(-0.0, -1e-300, -0.3, -30);
  BOOST_TEST((Tanh{}.value(x) == -Tanh{}.value(-x)).all());
  BOOST_TEST(std::signbit(Tanh{}.value(x)(0)));
}
