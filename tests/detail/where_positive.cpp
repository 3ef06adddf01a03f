// detail/where_positive.hpp: a where x > 0, b elsewhere. It gives `(x > 0).select(a, b)`'s bits
// for every special value of x (signed zeros, subnormals, infinities, NaN of either sign) at every
// position of a packet and of the scalar tail, and it is evaluated by packets in float and double
// (the reason it exists: Eigen 3.4's select and comparisons are not).
#define BOOST_TEST_MODULE detail_where_positive
#include "tapeless/detail/where_positive.hpp"

#include <boost/test/unit_test.hpp>

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

using tapeless::detail::where_positive;

namespace {

template <class S>
using Array = Eigen::Array<S, Eigen::Dynamic, 1>;

template <class S>
using Bits = std::conditional_t<sizeof(S) == 4, std::uint32_t, std::uint64_t>;

template <class S>
std::vector<S> specials() {
  using L = std::numeric_limits<S>;
  return {-L::infinity(),
          -L::max(),
          S(-1),
          -L::min(),
          -L::denorm_min(),
          S(-0.0),
          S(0),
          L::denorm_min(),
          L::min(),
          S(1e-30),
          S(1),
          L::max(),
          L::infinity(),
          L::quiet_NaN(),
          -L::quiet_NaN(),
          S(0.5),
          S(-0.5),
          L::signaling_NaN()};
}

template <class S>
constexpr bool vectorised() {
  using Expr = decltype(where_positive(std::declval<const Array<S>&>(), std::declval<const Array<S>&>(),
                                       std::declval<const Array<S>&>()));
  return (Eigen::internal::evaluator<Expr>::Flags & Eigen::PacketAccessBit) != 0;
}
static_assert(vectorised<float>() && vectorised<double>(), "where_positive must have Eigen's packet path");

template <class S>
void same_bits_as_select() {
  const std::vector<S> special = specials<S>();
  const Eigen::Index packet = Eigen::internal::packet_traits<S>::size;
  for (Eigen::Index n : {Eigen::Index(1), packet - 1, packet, packet + 1, 3 * packet + 5, Eigen::Index(100)}) {
    if (n < 1) continue;
    // every special value at every position: shift the list through the vector
    for (std::size_t shift = 0; shift < special.size(); ++shift) {
      Array<S> x(n), a(n), b(n);
      for (Eigen::Index i = 0; i < n; ++i) {
        x(i) = special[(static_cast<std::size_t>(i) + shift) % special.size()];
        a(i) = S(1) + static_cast<S>(i);  // distinct branches, so a wrong pick shows
        b(i) = -S(2) - static_cast<S>(i);
      }
      const Array<S> got = where_positive(x, a, b);
      const Array<S> want = (x > S(0)).select(a, b);
      for (Eigen::Index i = 0; i < n; ++i)
        BOOST_TEST(std::bit_cast<Bits<S>>(got(i)) == std::bit_cast<Bits<S>>(want(i)),
                   "n " << n << " at " << i << ": x = " << x(i) << ", got " << got(i) << ", select gives " << want(i));
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(float_gives_selects_bits) { same_bits_as_select<float>(); }
BOOST_AUTO_TEST_CASE(double_gives_selects_bits) { same_bits_as_select<double>(); }

BOOST_AUTO_TEST_CASE(expressions_and_constants_as_branches) {
  // the branches may be any array expressions of x's size, as relu's derivative uses them
  Array<float> x(5);
  x << -2, -0.0f, 0, 3, std::numeric_limits<float>::quiet_NaN();
  const Array<float> step = where_positive(x, Array<float>::Constant(5, 1.0f), Array<float>::Constant(5, 0.0f));
  const Array<float> leaky = where_positive(x, x, x * 0.25f);
  const Array<float> want_step = (Array<float>(5) << 0, 0, 0, 1, 0).finished();
  BOOST_TEST((step == want_step).all());
  BOOST_TEST(leaky(0) == -0.5f);
  BOOST_TEST(leaky(3) == 3.0f);
  BOOST_TEST(std::isnan(leaky(4)));
}

BOOST_AUTO_TEST_CASE(scalars_without_packets_take_the_scalar_path) {
  Eigen::Array<long double, 4, 1> x, a, b;
  x << -1, 0, 2, std::numeric_limits<long double>::quiet_NaN();
  a << 10, 20, 30, 40;
  b << -10, -20, -30, -40;
  const Eigen::Array<long double, 4, 1> got = where_positive(x, a, b);
  BOOST_TEST(got(0) == -10);
  BOOST_TEST(got(1) == -20);
  BOOST_TEST(got(2) == 30);
  BOOST_TEST(got(3) == -40);
}
