/// @file
/// @brief A vectorised logistic sigmoid in float and double, accurate to a few ulp over the
/// whole range.
///
/// Eigen 3.4's `array.logistic()` is vectorised, but its float version interpolates
/// sigmoid(x) - 1/2: below x = -5 its relative error grows to thousands of ulp (8300 ulp at
/// x = -8.8), and sigmoid(-inf) is 3e-39, not 0. This functor evaluates the stable form
///
///     e = exp(-|x|),   sigmoid(x) = 1 / (1 + e) for x >= 0,   e / (1 + e) for x < 0,
///
/// so neither branch cancels, with Eigen's vectorised exp (the scalar path, for the coefficients
/// after the last full packet, uses std::exp and may differ in the last bit). e is set to 0 beyond |x| = 104 (float) or
/// 746 (double), where exp(-|x|) rounds to 0 but Eigen's exp stops at its smallest subnormal: sigmoid(-inf) = 0,
/// sigmoid(inf) = 1. NaN propagates. tests/ops/elementwise_functions.cpp checks it against libm.
#pragma once

#include <Eigen/Core>

#include <type_traits>

namespace tapeless::detail {

/// Eigen functor for `x.unaryExpr(sigmoid_op<S>{})`, S float or double.
template <class S>
struct sigmoid_op {
  static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>, "tapeless: sigmoid_op is for float and double");

  template <class P>
  static P packetOp(const P& x) {
    using namespace Eigen::internal;
    const P zero = pset1<P>(S(0));
    const P one = pset1<P>(S(1));
    const P ax = pandnot(x, pset1<P>(S(-0.0)));
    P e = pexp(pnegate(ax));
    e = pselect(pcmp_lt(ax, pset1<P>(std::is_same_v<S, float> ? S(104) : S(746))), e, zero);
    const P r = pdiv(one, padd(one, e));
    const P t = pselect(pcmp_lt(x, zero), pmul(e, r), r);
    return pselect(pcmp_eq(x, x), t, x);  // NaN in, NaN out
  }
  S operator()(const S& x) const { return packetOp(x); }
};

}  // namespace tapeless::detail

namespace Eigen::internal {
template <class S>
struct functor_traits<tapeless::detail::sigmoid_op<S>> {
  enum {
    Cost = functor_traits<scalar_exp_op<S>>::Cost + 4 * NumTraits<S>::AddCost +
           scalar_div_cost<S, packet_traits<S>::HasDiv>::value,
    PacketAccess = int(packet_traits<S>::HasExp) + int(packet_traits<S>::HasDiv) + int(packet_traits<S>::HasCmp) == 3,
  };
};
}  // namespace Eigen::internal
