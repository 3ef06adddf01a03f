// detail/dot_rows.hpp: a row-major GEMV a packet of rows at a time, reduced together. Which rows it
// takes (dot_rows_count), and that eigen_compat::gemv_add, which hands it those rows, gives Eigen's
// GEMV kernel's bits for every row count and depth around the packet, strided rows, assign
// (y zeroed) and add, NaN, infinities, overflow and signed zeros, writing nothing past y. Built
// for the default target (4-lane SSE packets: the kernel is not used there, gemv_add is Eigen's)
// and again for this machine (test_native_detail_dot_rows: AVX or AVX-512, where it is), and on an
// AVX-512 machine for AVX2 too (test_avx2_detail_dot_rows: the 8-lane fold).
#define BOOST_TEST_MODULE detail_dot_rows
#include "tapeless/detail/dot_rows.hpp"

#include "tapeless/detail/eigen_compat.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using tapeless::Index;
using tapeless::detail::dot_rows_count;

namespace {

template <class S>
constexpr Index packet = Eigen::internal::packet_traits<S>::size;

// y += A x by Eigen's row-major GEMV kernel itself, as gemv_add called it before dot_rows.
template <class S>
void eigen_gemv(Index rows, Index depth, const S* a, Index lda, const S* x, S* y) {
  using Lhs = Eigen::internal::const_blas_data_mapper<S, Index, Eigen::RowMajor>;
  using Rhs = Eigen::internal::const_blas_data_mapper<S, Index, Eigen::ColMajor>;
  Eigen::internal::general_matrix_vector_product<Index, S, Lhs, Eigen::RowMajor, false, S, Rhs, false>::run(
      rows, depth, Lhs(a, lda), Rhs(x, 1), y, 1, S(1));
}

template <class S>
bool same_bits(const std::vector<S>& a, const std::vector<S>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(S)) == 0;
}

// How the coefficients are drawn: plain, or with one of the values IEEE arithmetic treats apart.
enum class Values { plain, nan, infinity, overflow, signed_zeros };

template <class S>
void compare(Index rows, Index depth, Index lda, Values kind, bool add, std::mt19937& rng) {
  std::uniform_real_distribution<S> u(-1, 1);
  const auto size = [](Index n) { return static_cast<std::size_t>(n); };
  std::vector<S> a(size(rows * lda)), x(size(depth));
  for (auto& v : a) v = u(rng);
  for (auto& v : x) v = u(rng);
  if (rows > 0 && depth > 0) {
    const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    switch (kind) {
      case Values::plain:
        break;
      case Values::nan:
        a[pick(a.size())] = std::numeric_limits<S>::quiet_NaN();
        break;
      case Values::infinity:
        x[pick(x.size())] = -std::numeric_limits<S>::infinity();
        break;
      case Values::overflow:  // products past the largest finite value, of both signs
        for (auto& v : a) v *= std::numeric_limits<S>::max() / 2;
        for (auto& v : x) v *= 4;
        break;
      case Values::signed_zeros:  // rows of zeros against a negative x: every product -0 or +0
        for (auto& v : a) v = v < 0 ? S(0) : -S(0);
        for (auto& v : x) v = -std::fabs(v) - S(1);
        break;
    }
  }
  // y has one guard coefficient past the rows; add mode starts from values, -0 among them
  std::vector<S> y(size(rows + 1), S(0));
  if (add)
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = i % 3 == 0 ? -S(0) : u(rng);
  y.back() = S(12345);
  std::vector<S> want = y;
  eigen_gemv<S>(rows, depth, a.data(), lda, x.data(), want.data());
  tapeless::detail::eigen_compat::gemv_add<S, Eigen::RowMajor>(rows, depth, a.data(), lda, x.data(), y.data());
  BOOST_TEST(same_bits(y, want), "rows " << rows << ", depth " << depth << ", stride " << lda << ", values "
                                         << static_cast<int>(kind) << (add ? ", added" : ", assigned"));
}

template <class S>
void gemv_add_has_eigens_bits() {
  const Index L = packet<S>;
  BOOST_TEST_MESSAGE(sizeof(S) << "-byte scalar, " << L << "-lane packets: dot_rows takes "
                               << dot_rows_count<S>(4 * L, L) << " of " << 4 * L << " rows of depth " << L);
  std::mt19937 rng(11);
  for (Index rows : {Index{0}, Index{1}, L - 1, L, L + 1, 2 * L, 3 * L + 5, 8 * L + 7})
    for (Index depth : {Index{0}, Index{1}, L, 2 * L, 4 * L, Index{128}, 128 + L, 3 * L + 1})
      for (Index pad : {Index{0}, Index{3}})
        for (Values kind : {Values::plain, Values::nan, Values::infinity, Values::overflow, Values::signed_zeros})
          for (bool add : {false, true}) compare<S>(rows, depth, depth + pad, kind, add, rng);
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_rows_it_takes) {
  constexpr Index L = packet<float>;
  if constexpr (tapeless::detail::dot_rows_available<float>) {
    BOOST_TEST_MESSAGE("dot_rows is compiled for " << L << "-lane float packets");
    BOOST_TEST(dot_rows_count<float>(L, L) == L);
    BOOST_TEST(dot_rows_count<float>(3 * L + 5, 2 * L) == 3 * L);  // whole blocks only
    BOOST_TEST(dot_rows_count<float>(L - 1, L) == 0);
    BOOST_TEST(dot_rows_count<float>(2 * L, 128) == 2 * L);
    BOOST_TEST(dot_rows_count<float>(2 * L, 128 + L) == 0);  // long rows: Eigen's kernel
    BOOST_TEST(dot_rows_count<float>(2 * L, L + 1) == 0);    // a depth with a tail
    BOOST_TEST(dot_rows_count<float>(2 * L, 0) == 0);
  } else {
    BOOST_TEST_MESSAGE("dot_rows is not compiled for " << L << "-lane float packets: Eigen's kernel runs");
    BOOST_TEST(dot_rows_count<float>(4 * L, L) == 0);
  }
  BOOST_TEST(dot_rows_count<double>(4 * packet<double>, packet<double>) == 0);  // double: Eigen's kernel
}

BOOST_AUTO_TEST_CASE(gemv_add_has_eigens_bits_in_float) { gemv_add_has_eigens_bits<float>(); }
BOOST_AUTO_TEST_CASE(gemv_add_has_eigens_bits_in_double) { gemv_add_has_eigens_bits<double>(); }
