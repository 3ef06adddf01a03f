// detail/update_pass.hpp: the optimizers' one-pass driver. Each mode stores what it should and
// nothing else, for every length (shorter than a packet, a multiple of one, a tail the last
// packet overlaps); a non-finite new value is found wherever it is, and the padding of a short
// vector never counts; a coefficient gets the same bits wherever the vector is cut.
#define BOOST_TEST_MODULE detail_update_pass
#include "tapeless/detail/update_pass.hpp"

#include <boost/test/unit_test.hpp>

#include <array>
#include <cmath>
#include <limits>
#include <vector>

using tapeless::Index;
using tapeless::detail::Pass;
using tapeless::detail::update_pass;

namespace {

template <class S>
constexpr Index packet = Eigen::internal::packet_traits<S>::size;

template <class S>
std::vector<Index> lengths() {
  const Index L = packet<S>;
  return {0, 1, L - 1, L, L + 1, 2 * L - 1, 3 * L, 3 * L + 5, 100};
}

// w <- 2 w + g, v <- v - g: two updated vectors, one read
template <Pass Mode, class S>
bool twice_plus(std::vector<S>& w, std::vector<S>& v, const std::vector<S>& g, std::vector<S>& sw, std::vector<S>& sv) {
  using namespace Eigen::internal;
  return update_pass<Mode, S>(static_cast<Index>(w.size()), std::array<S*, 2>{w.data(), v.data()},
                              std::array<const S*, 1>{g.data()}, std::array<S*, 2>{sw.data(), sv.data()},
                              [](auto(&x)[2], const auto(&r)[1]) {
                                using P = std::remove_cvref_t<decltype(r[0])>;
                                x[0] = pmadd(pset1<P>(2), x[0], r[0]);
                                x[1] = psub(x[1], r[0]);
                              });
}

template <class S>
void modes_store_what_they_should() {
  for (Index n : lengths<S>()) {
    const auto size = static_cast<std::size_t>(n);
    std::vector<S> w(size), v(size), g(size), sw(size, S(-7)), sv(size, S(-7));
    for (std::size_t i = 0; i < size; ++i) {
      w[i] = S(0.5) + static_cast<S>(i);
      v[i] = S(3) * static_cast<S>(i);
      g[i] = S(1) / static_cast<S>(i + 1);
    }
    const std::vector<S> w0 = w, v0 = v, untouched(size, S(-7));
    BOOST_TEST(twice_plus<Pass::check>(w, v, g, sw, sv), "n " << n);
    BOOST_TEST((w == w0 && v == v0 && sw == untouched && sv == untouched), "check stores nothing, n " << n);
    BOOST_TEST(twice_plus<Pass::commit>(w, v, g, sw, sv), "n " << n);
    for (std::size_t i = 0; i < size; ++i) {
      BOOST_TEST(w[i] == std::fma(S(2), w0[i], g[i]), "n " << n << " at " << i);
      BOOST_TEST(v[i] == v0[i] - g[i], "n " << n << " at " << i);  // once: the overlap is not updated twice
    }
    BOOST_TEST((sw == untouched && sv == untouched), "commit saves nothing, n " << n);
    const std::vector<S> w1 = w, v1 = v;
    BOOST_TEST(twice_plus<Pass::save_and_commit>(w, v, g, sw, sv), "n " << n);
    BOOST_TEST((sw == w1 && sv == v1), "the old values saved, n " << n);
    for (std::size_t i = 0; i < size; ++i) BOOST_TEST(w[i] == std::fma(S(2), w1[i], g[i]), "n " << n << " at " << i);
  }
}

template <class S>
void a_non_finite_value_is_found_anywhere() {
  const S bad[] = {std::numeric_limits<S>::quiet_NaN(), std::numeric_limits<S>::infinity(),
                   -std::numeric_limits<S>::infinity(), std::numeric_limits<S>::max()};  // 2 max overflows
  for (Index n : lengths<S>())
    for (Index at = 0; at < n; ++at)
      for (S b : bad) {
        const auto size = static_cast<std::size_t>(n);
        std::vector<S> w(size, S(1)), v(size, S(1)), g(size, S(1)), sw(size), sv(size);
        w[static_cast<std::size_t>(at)] = b;
        const std::vector<S> w0 = w;
        BOOST_TEST(!twice_plus<Pass::check>(w, v, g, sw, sv), "n " << n << " at " << at << " value " << b);
        BOOST_TEST((w == w0 || std::isnan(b)), "check stores nothing");
        BOOST_TEST(!twice_plus<Pass::save_and_commit>(w, v, g, sw, sv), "n " << n << " at " << at);
      }
}

}  // namespace

BOOST_AUTO_TEST_CASE(each_mode_stores_what_it_should_at_every_length) {
  modes_store_what_they_should<float>();
  modes_store_what_they_should<double>();
}

BOOST_AUTO_TEST_CASE(a_non_finite_new_value_fails_the_pass_wherever_it_is) {
  a_non_finite_value_is_found_anywhere<float>();
  a_non_finite_value_is_found_anywhere<double>();
}

BOOST_AUTO_TEST_CASE(the_padding_of_a_short_vector_does_not_count) {
  // x <- g / g is NaN for g = 0: padding a vector shorter than a packet with zeros, and testing
  // the padding's new values, would fail this finite update
  for (Index n = 1; n < packet<float>; ++n) {
    std::vector<float> w(static_cast<std::size_t>(n), 1), g(static_cast<std::size_t>(n), 2);
    const bool ok = update_pass<Pass::commit, float>(
        n, std::array<float*, 1>{w.data()}, std::array<const float*, 1>{g.data()}, std::array<float*, 1>{},
        [](auto(&x)[1], const auto(&r)[1]) { x[0] = Eigen::internal::pdiv(r[0], r[0]); });
    BOOST_TEST(ok);
    const bool checked = update_pass<Pass::check, float>(
        n, std::array<float*, 1>{w.data()}, std::array<const float*, 1>{g.data()}, std::array<float*, 1>{},
        [](auto(&x)[1], const auto(&r)[1]) { x[0] = Eigen::internal::pdiv(r[0], r[0]); });
    BOOST_TEST(checked, "n " << n);
    BOOST_TEST((w == std::vector<float>(static_cast<std::size_t>(n), 1)));
  }
}

BOOST_AUTO_TEST_CASE(a_coefficient_gets_the_same_bits_wherever_the_vector_is_cut) {
  // Eigen's float packet sqrt (rsqrt and a Newton step under EIGEN_FAST_MATH on AVX) differs from
  // std::sqrt in the last bit for some inputs: every coefficient must go through the packet code.
  const Index n = 3 * packet<float> + 5;
  std::vector<float> g(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = 1.0f + 0.37f * static_cast<float>(i);
  auto root = [](auto(&x)[1], const auto(&r)[1]) { x[0] = Eigen::internal::psqrt(r[0]); };
  std::vector<float> whole(g.size(), 0);
  update_pass<Pass::commit, float>(n, std::array<float*, 1>{whole.data()}, std::array<const float*, 1>{g.data()},
                                   std::array<float*, 1>{}, root);
  for (Index first = 0; first < n; first += 3) {  // slices of 3, 1 and 7 from every third coefficient
    for (Index length : {Index{1}, Index{3}, Index{7}}) {
      if (first + length > n) continue;
      std::vector<float> part(g.size(), 0);
      update_pass<Pass::commit, float>(length, std::array<float*, 1>{part.data() + first},
                                       std::array<const float*, 1>{g.data() + first}, std::array<float*, 1>{}, root);
      for (Index i = first; i < first + length; ++i)
        BOOST_TEST(part[static_cast<std::size_t>(i)] == whole[static_cast<std::size_t>(i)],
                   "at " << i << " in a slice of " << length << " from " << first);
    }
  }
}
