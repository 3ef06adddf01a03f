/// @file
/// @brief `check_gradient`: compares a program's gradient with central finite differences.
///
/// For every coefficient w_k of the tensor: numeric_k = (L(w_k + h) - L(w_k - h)) / (2h), and the
/// relative error |analytic_k - numeric_k| / max(|analytic_k|, |numeric_k|, floor). The floor keeps
/// coefficients whose gradient is (nearly) zero from reporting noise as error. The result names
/// the worst coefficient. The tensor is restored exactly, even if an evaluation throws.
#pragma once

#include "tapeless/core/tensor.hpp"
#include "tapeless/engine/program.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <utility>

namespace tapeless {

/// The outcome of a gradient check: the worst coefficient and its two estimates.
struct GradientCheck {
  double max_relative_error = 0;
  Index row = -1;
  Index col = -1;
  double analytic = 0;
  double numeric = 0;

  bool passed(double tolerance) const { return max_relative_error <= tolerance; }

  std::string report() const {
    std::ostringstream s;
    s << "worst relative error " << max_relative_error << " at (" << row << ", " << col << "): analytic " << analytic
      << ", numeric " << numeric;
    return s.str();
  }
};

/// The default finite-difference step: cbrt(machine epsilon), about 6e-6 for double and 5e-3
/// for float, which balances truncation and rounding error of central differences.
template <class S>
S default_step() {
  return std::cbrt(std::numeric_limits<S>::epsilon());
}

/// Checks d loss / d wrt (loss a 1x1 expression) against central differences of step `h`.
template <class E, TensorLike T, class S = typename T::scalar_type>
requires ExprLike<E> GradientCheck check_gradient(E&& loss, T& wrt, S h = default_step<S>(), double floor = 1e-3) {
  Program<as_expr_t<E&&>, T> program(as_expr(std::forward<E>(loss)), wrt);
  program.run();
  const auto analytic = program.template gradient<0>().eval();  // a copy: the program is re-run below
  GradientCheck out;
  auto& w = wrt.value();
  for (Index j = 0; j < w.cols(); ++j) {
    for (Index i = 0; i < w.rows(); ++i) {
      const S saved = w(i, j);
      struct restore {
        S& slot;
        S value;
        ~restore() { slot = value; }
      } guard{w(i, j), saved};
      w(i, j) = saved + h;
      program.forward();
      const double plus = static_cast<double>(program.scalar());
      w(i, j) = saved - h;
      program.forward();
      const double minus = static_cast<double>(program.scalar());
      const double numeric = (plus - minus) / (2.0 * static_cast<double>(h));
      const double a = static_cast<double>(analytic(i, j));
      const double err = std::abs(a - numeric) / std::max({std::abs(a), std::abs(numeric), floor});
      if (err > out.max_relative_error || out.row < 0) out = {err, i, j, a, numeric};
    }
  }
  return out;
}

}  // namespace tapeless
