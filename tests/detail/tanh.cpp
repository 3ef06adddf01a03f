// detail/tanh.hpp: the vectorised double tanh against libm's long double tanhl over the whole
// range, its special values, and the packet and scalar paths agreeing bit for bit.
#define BOOST_TEST_MODULE detail_tanh
#include "tapeless/detail/tanh.hpp"

#include "support/ulp.hpp"

#include <boost/test/unit_test.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace {
using Array = Eigen::ArrayXd;
Array vtanh(const Array& x) { return x.unaryExpr(tapeless::detail::tanh_op{}); }
constexpr double inf = std::numeric_limits<double>::infinity();
}  // namespace

BOOST_AUTO_TEST_CASE(within_three_ulp_of_libm_from_subnormals_to_saturation) {
  // evenly over [-25, 25] (k = 0 .. 56 and the clamp), and log-spaced magnitudes 5e-324 .. 1e300
  const auto x = test_support::sweep_points<double>(-25, 25, 1e300, 400001);
  const auto w = test_support::worst_ulp_error<double>(
      x, [](const auto& a) { return a.unaryExpr(tapeless::detail::tanh_op{}).eval(); },
      [](long double v) { return std::tanh(v); });
  BOOST_TEST_MESSAGE("worst error " << w.ulps << " ulp at x = " << w.at);
  BOOST_TEST(w.ulps <= 3.0, "tanh(" << w.at << ") is off by " << w.ulps << " ulp");
}

BOOST_AUTO_TEST_CASE(odd_with_signed_zero_saturating_and_nan_propagating) {
  Array x(9);
  x << 0.0, -0.0, inf, -inf, std::numeric_limits<double>::quiet_NaN(), 19.5, -19.5, 1e300, -5e-324;
  const Array y = vtanh(x);
  BOOST_TEST(y(0) == 0.0);
  BOOST_TEST(!std::signbit(y(0)));
  BOOST_TEST(y(1) == 0.0);
  BOOST_TEST(std::signbit(y(1)));
  BOOST_TEST(y(2) == 1.0);
  BOOST_TEST(y(3) == -1.0);
  BOOST_TEST(std::isnan(y(4)));
  BOOST_TEST(y(5) == 1.0);
  BOOST_TEST(y(6) == -1.0);
  BOOST_TEST(y(7) == 1.0);
  BOOST_TEST(y(8) == -5e-324);  // tanh(x) = x below sqrt(3 ulp)
  // |tanh| never exceeds 1 and is odd exactly
  const Array z = Array::LinSpaced(20001, -30, 30);
  const Array t = vtanh(z);
  BOOST_TEST((t.abs() <= 1.0).all());
  BOOST_TEST((vtanh(-z) == -t).all());
  // monotone: never decreasing along the grid
  BOOST_TEST(((t.tail(20000) - t.head(20000)) >= 0).all());
}

BOOST_AUTO_TEST_CASE(packet_and_scalar_paths_agree_bit_for_bit) {
  // 1003 coefficients: full packets and a scalar tail whatever the SIMD width; each coefficient
  // evaluated alone by the scalar path must give the same bits.
  const Array x = Array::LinSpaced(1003, -21, 21) * 1.0000001;
  const Array y = vtanh(x);
  const tapeless::detail::tanh_op f;
  for (Eigen::Index i = 0; i < x.size(); ++i)
    BOOST_TEST(std::bit_cast<std::uint64_t>(y(i)) == std::bit_cast<std::uint64_t>(f(x(i))), "at x = " << x(i));
}
