// detail/unpacked_gemm.hpp: C = A B and C = A^T G without packing, C = X^T G through a transposed
// panel, the plain loop for tiny products and the outer product. Every column
// count around the register block, row counts around the packet and the block of packets, both layouts of B, outer
// strides, assign and add: each coefficient within the bound of a sum of k products (against long double), nothing
// written outside C, a row's bits independent of where it sits, and NaN and infinities carried through.
#define BOOST_TEST_MODULE detail_unpacked_gemm
#include "tapeless/detail/unpacked_gemm.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using Eigen::Index;

namespace {

template <class S>
using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
using Exact = Matrix<long double>;

template <class S>
constexpr Index packet = Eigen::internal::packet_traits<S>::size;

template <class S>
std::vector<Index> row_counts() {
  const Index L = packet<S>, block = tapeless::detail::unpacked_row_packets<tapeless::detail::unpacked_max_cols> * L;
  return {L, L + 1, 2 * L - 1, block, block + 1, block + L - 1, 2 * block + L + 3, 100};
}

// |got - exact| within a sum of k products' rounding bound: (k + 2) eps (sum |a b| + |c0|)
template <class S>
bool within_bound(S got, long double exact, long double magnitude, Index k) {
  const long double eps = std::numeric_limits<S>::epsilon();
  return std::fabs(static_cast<long double>(got) - exact) <= (static_cast<long double>(k) + 2) * eps * magnitude;
}

// C (+)= A B with A a block of a taller matrix (lda > m), C a block of a taller matrix filled
// with a sentinel, and B stored column-major or row-major (a weight or its transpose)
template <bool Add, class S>
void check_nn(Index m, Index n, Index k, bool b_row_major) {
  const Index lda = m + 3, ldc = m + 5;
  const Matrix<S> a_store = Matrix<S>::Random(lda, k);
  const Matrix<S> b = Matrix<S>::Random(k, n);
  const Matrix<S> b_stored = b_row_major ? Matrix<S>(b.transpose()) : b;  // n x k holds b row by row
  const S sentinel = S(-12345);
  Matrix<S> c_store = Matrix<S>::Constant(ldc, n, sentinel);
  c_store.topRows(m).setRandom();
  const Matrix<S> c0 = c_store.topRows(m);
  tapeless::detail::unpacked_gemm<Add, S>(m, n, k, a_store.data(), lda, b_stored.data(), b_row_major ? n : 1,
                                          b_row_major ? 1 : k, c_store.data(), ldc);
  const Exact a = a_store.topRows(m).template cast<long double>();
  const Exact start = Add ? Exact(c0.template cast<long double>()) : Exact::Zero(m, n);
  const Exact exact = start + a * b.template cast<long double>();
  const Exact magnitude = start.cwiseAbs() + a.cwiseAbs() * b.template cast<long double>().cwiseAbs();
  Index wrong = 0;
  for (Index j = 0; j < n; ++j)
    for (Index i = 0; i < m; ++i) wrong += !within_bound(c_store(i, j), exact(i, j), magnitude(i, j), k);
  BOOST_TEST(wrong == 0, wrong << " coefficients off, m " << m << " n " << n << " k " << k << " add " << Add
                               << " b row-major " << b_row_major);
  BOOST_TEST((c_store.bottomRows(ldc - m).array() == sentinel).all(), "written below C, m " << m << " n " << n);
}

template <class S>
void nn_all_shapes() {
  for (Index m : row_counts<S>())
    for (Index n = 1; n <= 2 * tapeless::detail::unpacked_max_cols + 1; ++n)
      for (Index k : {1, 2, 7, 33})
        for (bool row_major : {false, true}) {
          check_nn<false, S>(m, n, k, row_major);
          check_nn<true, S>(m, n, k, row_major);
        }
}

// C, the top x.cols() rows of c_store, against start + X^T G in long double (start: c0 with Add,
// else zero), within the rounding bound of a sum of x.rows() products; below C, the sentinel.
template <bool Add, class S>
void check_transposed_product(const Matrix<S>& c_store, const Matrix<S>& c0, const Exact& x, const Exact& g, S sentinel,
                              const std::string& what) {
  const Index m = x.cols(), n = g.cols();
  const Exact start = Add ? Exact(c0.template cast<long double>()) : Exact::Zero(m, n);
  const Exact exact = start + x.transpose() * g;
  const Exact magnitude = start.cwiseAbs() + x.cwiseAbs().transpose() * g.cwiseAbs();
  Index wrong = 0;
  for (Index j = 0; j < n; ++j)
    for (Index i = 0; i < m; ++i) wrong += !within_bound(c_store(i, j), exact(i, j), magnitude(i, j), x.rows());
  BOOST_TEST(wrong == 0, wrong << " coefficients off, " << what << " add " << Add);
  BOOST_TEST((c_store.bottomRows(c_store.rows() - m).array() == sentinel).all(), "written below C, " << what);
}

template <bool Add, class S>
void check_tn(Index m, Index k, Index n) {
  const Index lda = m + 2, ldg = m + 1, ldc = k + 3;
  const Matrix<S> a_store = Matrix<S>::Random(lda, k), g_store = Matrix<S>::Random(ldg, n);
  const S sentinel = S(-12345);
  Matrix<S> c_store = Matrix<S>::Constant(ldc, n, sentinel);
  c_store.topRows(k).setRandom();
  const Matrix<S> c0 = c_store.topRows(k);
  tapeless::detail::unpacked_gemm_tn<Add, S>(m, k, n, a_store.data(), lda, g_store.data(), ldg, c_store.data(), ldc);
  check_transposed_product<Add, S>(c_store, c0, a_store.topRows(m).template cast<long double>(),
                                   g_store.topRows(m).template cast<long double>(), sentinel,
                                   "m " + std::to_string(m) + " k " + std::to_string(k) + " n " + std::to_string(n));
}

template <class S>
void tn_all_shapes() {
  const Index L = packet<S>;
  for (Index m : {Index(1), Index(2), L - 1, L, L + 1, 3 * L + 5})
    for (Index k = 1; k <= 9; ++k)
      for (Index n = 1; n <= 9; ++n) {
        check_tn<false, S>(m, k, n);
        check_tn<true, S>(m, k, n);
      }
}

// C (+)= X^T G through a transposed copy of X (unpacked_gemm_at): X and G blocks of taller
// matrices, C a block of a taller matrix filled with a sentinel, and the panel exactly m k long
// (a guard after it must survive)
template <bool Add, class S>
void check_at(Index m, Index n, Index k) {
  const Index ldx = k + 2, ldg = k + 1, ldc = m + 3;
  const Matrix<S> x_store = Matrix<S>::Random(ldx, m), g_store = Matrix<S>::Random(ldg, n);
  const S sentinel = S(-12345);
  Matrix<S> c_store = Matrix<S>::Constant(ldc, n, sentinel);
  c_store.topRows(m).setRandom();
  const Matrix<S> c0 = c_store.topRows(m);
  std::vector<S> panel(static_cast<std::size_t>(m * k + 1), sentinel);
  tapeless::detail::unpacked_gemm_at<Add, S>(m, n, k, x_store.data(), ldx, g_store.data(), ldg, panel.data(),
                                             c_store.data(), ldc);
  const std::string what = "m " + std::to_string(m) + " n " + std::to_string(n) + " k " + std::to_string(k);
  check_transposed_product<Add, S>(c_store, c0, x_store.topRows(k).template cast<long double>(),
                                   g_store.topRows(k).template cast<long double>(), sentinel, what);
  BOOST_TEST(panel.back() == sentinel, "written past the panel, " << what);
}

template <class S>
void at_all_shapes() {
  const Index L = packet<S>;
  for (Index m : {L, L + 1, 2 * L - 1, 3 * L + 5})
    for (Index n : {Index(1), Index(tapeless::detail::unpacked_max_cols) + 1})
      for (Index k : {Index(1), L - 1, L, 2 * L + 3}) {
        check_at<false, S>(m, n, k);
        check_at<true, S>(m, n, k);
      }
}

// small_gemm, through the strides of every storage order of A and B
template <bool Add, class S>
void check_small(Index m, Index n, Index k, bool a_row_major, bool b_row_major) {
  const Matrix<S> a = Matrix<S>::Random(m, k), b = Matrix<S>::Random(k, n);
  const Matrix<S> a_stored = a_row_major ? Matrix<S>(a.transpose()) : a;
  const Matrix<S> b_stored = b_row_major ? Matrix<S>(b.transpose()) : b;
  const Index ldc = m + 2;
  Matrix<S> c_store = Matrix<S>::Random(ldc, n);
  const Matrix<S> before = c_store;
  tapeless::detail::small_gemm<Add, S>(m, n, k, a_stored.data(), a_row_major ? k : 1, a_row_major ? 1 : m,
                                       b_stored.data(), b_row_major ? n : 1, b_row_major ? 1 : k, c_store.data(), ldc);
  const Exact start = Add ? Exact(before.topRows(m).template cast<long double>()) : Exact::Zero(m, n);
  const Exact exact = start + a.template cast<long double>() * b.template cast<long double>();
  const Exact magnitude =
      start.cwiseAbs() + a.template cast<long double>().cwiseAbs() * b.template cast<long double>().cwiseAbs();
  Index wrong = 0;
  for (Index j = 0; j < n; ++j)
    for (Index i = 0; i < m; ++i) wrong += !within_bound(c_store(i, j), exact(i, j), magnitude(i, j), k);
  BOOST_TEST(wrong == 0, wrong << " coefficients off, " << m << "x" << k << " by " << k << "x" << n);
  BOOST_TEST((c_store.bottomRows(2).array() == before.bottomRows(2).array()).all());
}

// outer_gemm, with a contiguous (packets) and strided (one by one): each product rounded once.
// By default b has stride 2 and C three rows more than m; bj = 1 and pad = 0 give the contiguous
// case. Nothing but C's m x n coefficients is written: not the rows between m and ldc, not the
// 8 coefficients after C.
template <bool Add, class S>
void check_outer(Index m, Index n, Index ai, Index bj = 2, Index pad = 3) {
  const Matrix<S> a_store = Matrix<S>::Random(m * ai, 1), b_store = Matrix<S>::Random(1, bj * n);
  const Index ldc = m + pad;
  Matrix<S> storage = Matrix<S>::Random(ldc * n + 8, 1);
  const Matrix<S> before = storage;
  tapeless::detail::outer_gemm<Add, S>(m, n, a_store.data(), ai, b_store.data(), bj, storage.data(), ldc);
  const auto c = [&](const Matrix<S>& s, Index i, Index j) { return s(j * ldc + i); };
  Index wrong = 0, touched = 0;
  for (Index j = 0; j < n; ++j)
    for (Index i = m; i < ldc; ++i) touched += c(storage, i, j) != c(before, i, j);
  for (Index e = ldc * n; e < storage.size(); ++e) touched += storage(e) != before(e);
  for (Index j = 0; j < n; ++j)
    for (Index i = 0; i < m; ++i) {
      const S product = a_store(i * ai) * b_store(bj * j);
      const S old = c(before, i, j), now = c(storage, i, j);
      if (Add)
        wrong += !within_bound(now, static_cast<long double>(old) + product,
                               std::fabs(static_cast<long double>(old)) + std::fabs(product), 1);
      else
        wrong += now != product;
    }
  BOOST_TEST(wrong == 0, wrong << " coefficients off, m " << m << " n " << n << " strides " << ai << ", " << bj
                               << ", ldc " << ldc << " add " << Add);
  BOOST_TEST(touched == 0, touched << " coefficients written outside C, m " << m << " n " << n << " ldc " << ldc);
}

// Rows [m - r, m) of one product, computed again as a product of r rows: the same bits, whether
// a row falls in a block of packets, a single packet or the last, overlapping packet.
template <class S>
void rows_independent_of_position() {
  const Index m = 2 * tapeless::detail::unpacked_row_packets<tapeless::detail::unpacked_max_cols> * packet<S> + 7;
  const Index n = tapeless::detail::unpacked_max_cols + 3, k = 19;
  const Matrix<S> a = Matrix<S>::Random(m, k), b = Matrix<S>::Random(k, n);
  Matrix<S> whole(m, n);
  tapeless::detail::unpacked_gemm<false, S>(m, n, k, a.data(), m, b.data(), 1, k, whole.data(), m);
  for (Index r = packet<S>; r <= m; ++r) {
    Matrix<S> part(r, n);
    tapeless::detail::unpacked_gemm<false, S>(r, n, k, a.data() + (m - r), m, b.data(), 1, k, part.data(), r);
    BOOST_TEST((part.array() == whole.bottomRows(r).array()).all(), "last " << r << " rows of " << m);
  }
}

template <class S>
void non_finite_values_propagate() {
  const Index m = 3 * packet<S> + 1, n = 5, k = 6;
  const S inf = std::numeric_limits<S>::infinity();
  Matrix<S> a = Matrix<S>::Random(m, k), b = Matrix<S>::Random(k, n);
  a(1, 2) = std::numeric_limits<S>::quiet_NaN();  // row 1: NaN everywhere
  a(m - 1, 0) = inf;                              // last row (the overlapping packet): inf * 0 in column 3
  b(0, 3) = 0;
  Matrix<S> c(m, n);
  tapeless::detail::unpacked_gemm<false, S>(m, n, k, a.data(), m, b.data(), 1, k, c.data(), m);
  BOOST_TEST(c.row(1).array().isNaN().all());
  BOOST_TEST(std::isnan(c(m - 1, 3)));
  BOOST_TEST((c.row(m - 1).array().isInf().count() == n - 1));
  Matrix<S> rest = c;
  rest.row(1).setZero();
  rest.row(m - 1).setZero();
  BOOST_TEST(rest.allFinite());
  // A^T G: a NaN down the batch reaches every gradient of its column
  Matrix<S> dw(k, n);
  tapeless::detail::unpacked_gemm_tn<false, S>(m, k, n, a.data(), m, c.data(), m, dw.data(), k);
  BOOST_TEST(dw.array().isNaN().all());
}

}  // namespace

BOOST_AUTO_TEST_CASE(products_are_within_the_rounding_bound_of_their_sums) {
  nn_all_shapes<float>();
  nn_all_shapes<double>();
}

BOOST_AUTO_TEST_CASE(transposed_products_are_within_the_rounding_bound_of_their_sums) {
  tn_all_shapes<float>();
  tn_all_shapes<double>();
}

BOOST_AUTO_TEST_CASE(weight_gradients_through_a_transposed_panel_are_within_the_rounding_bound) {
  at_all_shapes<float>();
  at_all_shapes<double>();
}

BOOST_AUTO_TEST_CASE(small_products_are_within_the_rounding_bound_of_their_sums) {
  for (Index m : {1, 2, 5})
    for (Index n : {1, 3, 7})
      for (Index k : {0, 1, 4})
        for (bool a_row : {false, true})
          for (bool b_row : {false, true}) {
            check_small<false, float>(m, n, k, a_row, b_row);
            check_small<true, double>(m, n, k, a_row, b_row);
          }
}

BOOST_AUTO_TEST_CASE(outer_products_round_each_coefficient_once) {
  for (Index m : {Index(1), packet<float> - 1, packet<float>, 2 * packet<float> + 3})
    for (Index n : {1, 4})
      for (Index ai : {1, 3}) {
        check_outer<false, float>(m, n, ai);
        check_outer<true, float>(m, n, ai);
        check_outer<false, double>(m, n, ai);
        check_outer<true, double>(m, n, ai);
      }
}

// Columns shorter than a packet (m of 1, 2 or 4: dw of a layer of so few inputs at batch 1) in a
// contiguous C take whole packets across columns: every width of C, the last packet's remainder
// included, and the strided cases beside them.
BOOST_AUTO_TEST_CASE(short_columns_across_a_contiguous_destination) {
  for (Index m : {1, 2, 3, 4})
    for (Index n : {1, 3, 4, 5, 8, 17, 33, 64})
      for (Index pad : {0, 1}) {
        check_outer<false, float>(m, n, 1, 1, pad);
        check_outer<true, float>(m, n, 1, 1, pad);
        check_outer<false, double>(m, n, 1, 1, pad);
        check_outer<true, double>(m, n, 1, 1, pad);
        check_outer<false, float>(m, n, 2, 1, pad);
        check_outer<false, float>(m, n, 1, 3, pad);
      }
}

BOOST_AUTO_TEST_CASE(a_row_gets_the_same_bits_wherever_it_sits) {
  rows_independent_of_position<float>();
  rows_independent_of_position<double>();
}

BOOST_AUTO_TEST_CASE(nan_and_infinities_are_carried_through) {
  non_finite_values_propagate<float>();
  non_finite_values_propagate<double>();
}
