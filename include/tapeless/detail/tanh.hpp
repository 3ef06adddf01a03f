/// @file
/// @brief A vectorised tanh in double, accurate to about 2.5 ulp over the whole range.
///
/// Eigen 3.4 vectorises tanh for float only (a rational approximation, measured at 4.7 ulp,
/// which ops/tanh.hpp keeps for float); for double `array.tanh()` calls std::tanh once per
/// coefficient, 9x slower than this functor on AVX-512. The packet and scalar paths run the same
/// algorithm, so a coefficient gets the same value wherever it sits in a matrix:
///
///     y = expm1(2|x|),   tanh(x) = sign(x) * y / (y + 2),
///
/// with |x| clamped at 19.5, beyond which tanh rounds to 1. expm1 reduces its argument as
/// v = k ln2 + r, |r| <= ln2 / 2 (Cody-Waite, ln2 split in two so that k * hi is exact), and
/// evaluates expm1(r) = r + r^2 q(r), q the Taylor polynomial of degree 11 (truncation error below
/// 1/8 ulp on that interval); then expm1(v) = 2^k expm1(r) + (2^k - 1), k in [0, 56].
/// No cancellation: for small x, k = 0 and y / (y + 2) keeps x's relative precision down to
/// subnormals. The sign is copied bitwise, so tanh(-0) = -0; NaN propagates; tanh(+-inf) = +-1.
/// tests/detail/tanh.cpp checks each of these against libm.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <type_traits>

namespace tapeless::detail {

/// Eigen functor for `x.unaryExpr(tanh_op{})` on double arrays.
struct tanh_op {
  template <class P>
  static P packetOp(const P& x) {
    using namespace Eigen::internal;
    const P sign_bit = pset1<P>(-0.0);
    const P sign = pand(x, sign_bit);
    const P v = pmul(pset1<P>(2.0), pmin(pandnot(x, sign_bit), pset1<P>(19.5)));  // 2 |x|, clamped
    // k = round(v / ln2), by adding and subtracting 1.5 * 2^52 (exact for |v / ln2| < 2^51)
    const P shifter = pset1<P>(6755399441055744.0);
    const P k = psub(padd(pmul(v, pset1<P>(1.44269504088896340736)), shifter), shifter);
    // r = v - k ln2, ln2 = hi + lo, hi with 32 trailing zero bits
    const P neg_k = pnegate(k);
    const P r =
        pmadd(neg_k, pset1<P>(1.90821492927058770002e-10), pmadd(neg_k, pset1<P>(6.93147180369123816490e-01), v));
    // q(r) = sum_{n=2}^{13} r^(n-2) / n!
    P q = pset1<P>(1.0 / 6227020800.0);
    q = pmadd(q, r, pset1<P>(1.0 / 479001600.0));
    q = pmadd(q, r, pset1<P>(1.0 / 39916800.0));
    q = pmadd(q, r, pset1<P>(1.0 / 3628800.0));
    q = pmadd(q, r, pset1<P>(1.0 / 362880.0));
    q = pmadd(q, r, pset1<P>(1.0 / 40320.0));
    q = pmadd(q, r, pset1<P>(1.0 / 5040.0));
    q = pmadd(q, r, pset1<P>(1.0 / 720.0));
    q = pmadd(q, r, pset1<P>(1.0 / 120.0));
    q = pmadd(q, r, pset1<P>(1.0 / 24.0));
    q = pmadd(q, r, pset1<P>(1.0 / 6.0));
    q = pmadd(q, r, pset1<P>(0.5));
    const P expm1_r = pmadd(pmul(r, r), q, r);
    const P one = pset1<P>(1.0);
    P two_k;
    if constexpr (std::is_same_v<P, double>)
      two_k = std::ldexp(1.0, static_cast<int>(k));
    else
      two_k = pldexp(one, k);                             // Eigen's per-architecture version for double packets
    const P y = pmadd(two_k, expm1_r, psub(two_k, one));  // expm1(v)
    // tanh = y / (y + 2) = 1 - w, w = 2 / (y + 2): the product form keeps small x's relative
    // precision, 1 - w is exact in its binade where w <= 1/2 (and so monotone up to saturation)
    const P w = pdiv(pset1<P>(2.0), padd(y, pset1<P>(2.0)));
    const P t = por(pselect(pcmp_lt(y, pset1<P>(2.0)), pmul(pmul(y, w), pset1<P>(0.5)), psub(one, w)), sign);
    return pselect(pcmp_eq(x, x), t, x);  // NaN in, NaN out
  }
  double operator()(const double& x) const { return packetOp(x); }
};

}  // namespace tapeless::detail

namespace Eigen::internal {
template <>
struct functor_traits<tapeless::detail::tanh_op> {
  enum {
    // about 20 multiply-adds and one division per coefficient
    Cost = 20 * NumTraits<double>::MulCost + scalar_div_cost<double, packet_traits<double>::HasDiv>::value,
    PacketAccess =
        int(packet_traits<double>::HasDiv) + int(packet_traits<double>::HasMin) + int(packet_traits<double>::HasCmp) ==
        3,
  };
};
}  // namespace Eigen::internal
