// detail/outer_update.hpp: the one-row update of weights whose gradients are outer products.
// For every shape around the packet (fewer inputs than a packet, 1, 2 and 4 of them, columns of a
// packet and more with a tail, fewer coefficients than a packet), a check stores nothing and a
// commit stores the gradients and the new weights that outer_gemm followed by update_pass give,
// bit for bit, and nothing past them; a non-finite new value is found wherever it is, in any
// weight of the list, in a weight shorter than a packet too.
#define BOOST_TEST_MODULE detail_outer_update
#include "tapeless/detail/outer_update.hpp"

#include "tapeless/detail/unpacked_gemm.hpp"

#include <boost/test/unit_test.hpp>

#include <array>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using tapeless::Index;
using tapeless::detail::outer_weight;
using tapeless::detail::Pass;

namespace {

template <class S>
constexpr Index packet = Eigen::internal::packet_traits<S>::size;

// Sgd's update without momentum, w <- w - lr (g + wd w): two multiply-adds, as in optim/sgd.hpp
template <class S>
auto sgd_kernel(S lr, S wd) {
  return [minus_lr = -lr, wd]<class P>(P(&x)[1], const P(&r)[1]) {
    using namespace Eigen::internal;
    x[0] = pmadd(pset1<P>(minus_lr), pmadd(pset1<P>(wd), x[0], r[0]), x[0]);
  };
}

template <class S>
bool same_bits(const S* a, const S* b, Index n) {
  return std::memcmp(a, b, static_cast<std::size_t>(n) * sizeof(S)) == 0;
}

// One weight with its x, g and a guard coefficient past w and dw.
template <class S>
struct Case {
  Index in, out;
  std::vector<S> x, g, w, dw;
  Case(Index i, Index o, std::mt19937& rng) : in(i), out(o), x(sz(i)), g(sz(o)), w(sz(i * o + 1)), dw(sz(i * o + 1)) {
    std::uniform_real_distribution<S> u(-1, 1);
    for (auto* v : {&x, &g, &w})
      for (S& c : *v) c = u(rng);
    dw.assign(dw.size(), S(-7));
    x[0] = S(0);  // a zero input: signed zeros in the gradient
    w.back() = dw.back() = S(-7);
  }
  static std::size_t sz(Index n) { return static_cast<std::size_t>(n); }
  outer_weight<S> view() { return {in, out, x.data(), g.data(), w.data(), dw.data()}; }
};

template <class S>
std::vector<Index> widths() {
  const Index L = packet<S>;
  return {1, 2, 3, 4, 5, L - 1, L, L + 1, 2 * L + 3, 37};
}

template <class S>
void check_then_commit_equals_outer_gemm_then_update_pass() {
  std::mt19937 rng(11);
  const auto kernel = sgd_kernel<S>(S(0.37), S(0.01));
  for (Index in : widths<S>())
    for (Index out : {Index{1}, Index{2}, Index{3}, packet<S> - 1, packet<S> + 2, Index{7}}) {
      Case<S> c(in, out, rng);
      const Index n = in * out;
      // the reference: the gradient stored by outer_gemm, then update_pass over it
      std::vector<S> ref_w = c.w, ref_dw(c.dw.size(), S(-7));
      tapeless::detail::outer_gemm<false, S>(in, out, c.x.data(), 1, c.g.data(), 1, ref_dw.data(), in);
      const bool committed = tapeless::detail::update_pass<Pass::commit, S>(n, std::array<S*, 1>{ref_w.data()},
                                                                            std::array<const S*, 1>{ref_dw.data()},
                                                                            std::array<S*, 1>{nullptr}, kernel);
      BOOST_TEST_REQUIRE(committed);
      const std::vector<S> w0 = c.w, dw0 = c.dw;
      const outer_weight<S> v = c.view();
      const bool finite = tapeless::detail::outer_update<Pass::check, S>(&v, 1, kernel);
      BOOST_TEST(finite, in << " x " << out);
      BOOST_TEST((c.w == w0 && same_bits(c.dw.data(), dw0.data(), n + 1)),
                 "check stores nothing, " << in << " x " << out);
      tapeless::detail::outer_update<Pass::commit, S>(&v, 1, kernel);
      BOOST_TEST(same_bits(c.dw.data(), ref_dw.data(), n), "gradient, " << in << " x " << out);
      BOOST_TEST(same_bits(c.w.data(), ref_w.data(), n), "weights, " << in << " x " << out);
      BOOST_TEST((c.w.back() == S(-7) && c.dw.back() == S(-7)), "nothing past the end, " << in << " x " << out);
    }
}

// A non-finite new value anywhere (a NaN input, an infinite gradient, an overflowing update) in
// the last of three weights: the check says so and stores nothing.
template <class S>
void a_non_finite_value_is_found_anywhere() {
  std::mt19937 rng(12);
  const auto kernel = sgd_kernel<S>(S(0.5), S(0));
  const S big = std::numeric_limits<S>::max();
  for (Index in : widths<S>())
    for (Index out : {Index{1}, Index{3}, packet<S> + 2}) {
      const Index n = in * out;
      for (Index e = 0; e < n; e += (n > 40 ? 7 : 1))
        for (int kind = 0; kind < 3; ++kind) {
          Case<S> a(5, 3, rng), b(packet<S>, 2, rng), c(in, out, rng);
          const Index i = e % in, j = e / in;
          if (kind == 0) c.x[static_cast<std::size_t>(i)] = std::numeric_limits<S>::quiet_NaN();
          if (kind == 1) c.g[static_cast<std::size_t>(j)] = std::numeric_limits<S>::infinity();
          if (kind == 2) {  // w - 0.5 x g overflows: -max - max / 2
            c.w[static_cast<std::size_t>(e)] = -big;
            c.x[static_cast<std::size_t>(i)] = S(1);
            c.g[static_cast<std::size_t>(j)] = big;
          }
          const std::vector<S> w0 = c.w;
          const std::array<outer_weight<S>, 3> list{a.view(), b.view(), c.view()};
          const bool finite = tapeless::detail::outer_update<Pass::check, S>(list.data(), 3, kernel);
          BOOST_TEST(!finite, "kind " << kind << ", " << in << " x " << out << " at " << e);
          BOOST_TEST((c.w == w0), "check stores nothing");
        }
    }
}

// Fewer coefficients than a packet go through one padded packet: every real one is checked, the
// last one too.
template <class S>
void a_short_weight_is_checked_whole() {
  std::mt19937 rng(13);
  const auto kernel = sgd_kernel<S>(S(0.5), S(0));
  Case<S> c(1, 3, rng);  // 3 coefficients, a packet of more
  c.x[0] = S(2);
  const outer_weight<S> v = c.view();
  const bool before = tapeless::detail::outer_update<Pass::check, S>(&v, 1, kernel);
  BOOST_TEST(before);
  c.g[2] = std::numeric_limits<S>::infinity();  // the last real one: found
  const bool after = tapeless::detail::outer_update<Pass::check, S>(&v, 1, kernel);
  BOOST_TEST(!after);
}

}  // namespace

BOOST_AUTO_TEST_CASE(float_check_then_commit_equals_outer_gemm_then_update_pass) {
  check_then_commit_equals_outer_gemm_then_update_pass<float>();
}
BOOST_AUTO_TEST_CASE(double_check_then_commit_equals_outer_gemm_then_update_pass) {
  check_then_commit_equals_outer_gemm_then_update_pass<double>();
}
BOOST_AUTO_TEST_CASE(a_non_finite_value_is_found_in_any_weight_anywhere) {
  a_non_finite_value_is_found_anywhere<float>();
  a_non_finite_value_is_found_anywhere<double>();
}
BOOST_AUTO_TEST_CASE(a_weight_shorter_than_a_packet_is_checked_whole) {
  a_short_weight_is_checked_whole<float>();
  a_short_weight_is_checked_whole<double>();
}
