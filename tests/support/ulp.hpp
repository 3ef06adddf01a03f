// Distance of a computed value from an exact one, in units in the last place of the result type,
// and sweeps of a vectorised function against a long double reference (libm's tanhl, expl, ...).
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace test_support {

/// |got - exact| / ulp(exact), ulp taken in S (the gap above |exact| as rounded to S; the
/// smallest subnormal below the normal range). Both NaN: 0; one NaN, or an infinity missed: inf.
template <class S>
double ulp_error(S got, long double exact) {
  if (std::isnan(got) || std::isnan(exact)) return std::isnan(got) && std::isnan(exact) ? 0 : INFINITY;
  if (std::isinf(got) || std::isinf(exact)) return got == exact ? 0 : INFINITY;
  const S rounded = static_cast<S>(std::fabs(exact));
  const long double ulp = static_cast<long double>(std::nextafter(rounded, std::numeric_limits<S>::infinity())) -
                          static_cast<long double>(rounded);
  return static_cast<double>(std::fabs(static_cast<long double>(got) - exact) / ulp);
}

/// Points to test a function of one variable at: `n` evenly spaced in [lo, hi], then, both signs,
/// `n` magnitudes spaced evenly in log from the smallest subnormal of S to `hi_magnitude`.
template <class S>
std::vector<S> sweep_points(double lo, double hi, double hi_magnitude, int n) {
  std::vector<S> x;
  for (int i = 0; i < n; ++i) x.push_back(static_cast<S>(lo + (hi - lo) * i / (n - 1)));
  const double l0 = std::log(double(std::numeric_limits<S>::denorm_min())), l1 = std::log(hi_magnitude);
  for (int i = 0; i < n; ++i) {
    const S m = static_cast<S>(std::exp(l0 + (l1 - l0) * i / (n - 1)));
    x.push_back(m);
    x.push_back(-m);
  }
  return x;
}

/// The worst ulp error of `f` (array -> array) against `exact` (long double -> long double) over
/// `x`, with the point where it happens.
struct Worst {
  double ulps = 0;
  double at = 0;
};
template <class S, class F, class Exact>
Worst worst_ulp_error(const std::vector<S>& x, F f, Exact exact) {
  const Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, 1>> in(x.data(), static_cast<Eigen::Index>(x.size()));
  const Eigen::Array<S, Eigen::Dynamic, 1> out = f(in);
  Worst w;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double e = ulp_error<S>(out(static_cast<Eigen::Index>(i)), exact(static_cast<long double>(x[i])));
    if (!(e <= w.ulps)) w = {e, static_cast<double>(x[i])};
  }
  return w;
}

}  // namespace test_support
