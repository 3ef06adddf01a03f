/// @file
/// @brief `check_gradient`, `check_gradients`: compare a program's gradient with central finite
/// differences.
///
/// For every coefficient w_k of the tensor: numeric_k = (L(w_k + h) - L(w_k - h)) / (2h), and the
/// relative error |analytic_k - numeric_k| / max(|analytic_k|, |numeric_k|, floor). The floor keeps
/// coefficients whose gradient is (nearly) zero from reporting noise as error. The result names
/// the worst coefficient. The tensor is restored exactly, even if an evaluation throws.
#pragma once

#include "tapeless/core/tensor.hpp"
#include "tapeless/engine/program.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

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

namespace detail {
/// Central differences of `program` (whose forward() computes the loss) over every coefficient of
/// `wrt`, against `analytic`; restores each coefficient exactly, even if an evaluation throws.
template <class P, class A, class T, class S>
GradientCheck finite_difference_check(P& program, const A& analytic, T& wrt, S h, double floor) {
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
}  // namespace detail

/// Checks d loss / d wrt (loss a 1x1 expression) against central differences of step `h`.
template <class E, TensorLike T, class S = typename T::scalar_type>
requires ExprLike<E> GradientCheck check_gradient(E&& loss, T& wrt, S h = default_step<S>(), double floor = 1e-3) {
  Program<as_expr_t<E&&>, T> program(as_expr(std::forward<E>(loss)), wrt);
  program.run();
  const auto analytic = program.template gradient<0>().eval();  // a copy: the program is re-run below
  return detail::finite_difference_check(program, analytic, wrt, h, floor);
}

/// The step and floor of `check_gradients` (a step of 0: `default_step` of the loss's scalar).
struct GradientCheckOptions {
  double step = 0;
  double floor = 1e-3;
};

/// Checks d loss / d w for every tensor w of `wrt` (result k for wrt k), as `check_gradient`
/// does for one, but with one program for all of them: one backward pass compiled where k calls
/// of `check_gradient` compile k (a whole network's parameters: one program, not one per shape).
///
///     auto checks = check_gradients({}, loss, w1, b1, w2, b2);   // std::array of 4
template <class E, TensorLike... T>
requires ExprLike<E> &&
    (sizeof...(T) > 0) std::array<GradientCheck, sizeof...(T)> check_gradients(GradientCheckOptions options, E&& loss,
                                                                               T&... wrt) {
  using S = scalar_t<as_expr_t<E&&>>;
  Program<as_expr_t<E&&>, T...> program(as_expr(std::forward<E>(loss)), wrt...);
  program.run();
  const S h = options.step > 0 ? static_cast<S>(options.step) : default_step<S>();
  std::array<GradientCheck, sizeof...(T)> out;
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    // copies: the program is re-run below
    const auto analytic = std::make_tuple(program.template gradient<K>().eval()...);
    ((out[K] = detail::finite_difference_check(program, std::get<K>(analytic), wrt, h, options.floor)), ...);
  }
  (std::index_sequence_for<T...>{});
  return out;
}

/// One parameter's check, by name.
struct NamedGradientCheck {
  std::string name;
  GradientCheck check;
};

/// Checks the gradient of every parameter of `net` (a Network whose forward expression `loss`
/// uses), with one program, named as `net.parameters()` names them; pick one by its name:
///
///     for (const auto& [name, check] : check_gradients({}, loss, net)) ...
template <class E, class Net>
requires ExprLike<E> && requires(Net& n) {
  n.params().refs();
  n.parameters();
}
std::vector<NamedGradientCheck> check_gradients(GradientCheckOptions options, E&& loss, Net& net) {
  const auto checks = std::apply([&](auto&... p) { return check_gradients(options, std::forward<E>(loss), p...); },
                                 net.params().refs());
  std::vector<NamedGradientCheck> out;
  for (std::size_t k = 0; k < checks.size(); ++k) out.push_back({net.parameters()[k].name, checks[k]});
  return out;
}
}  // namespace tapeless
