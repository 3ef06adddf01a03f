// detail/transpose.hpp: the transposed copy is exact, coefficient for coefficient, around the
// edges of the packet-square blocks, from rows anywhere (gathered in any order, repeated) and
// from a column-major matrix with an outer stride; nothing is written outside the destination.
#define BOOST_TEST_MODULE detail_transpose
#include "tapeless/detail/transpose.hpp"

#include <boost/test/unit_test.hpp>

#include <vector>

using Eigen::Index;

namespace {

template <class S>
constexpr Index packet = Eigen::internal::packet_traits<S>::size;

template <class S>
std::vector<Index> sizes() {
  const Index L = packet<S>;
  return {1, L - 1 > 0 ? L - 1 : 1, L, L + 1, 2 * L + 3};
}

template <class S>
using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
template <class S>
using RowMajor = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// rows picked backwards and every third one twice, into a block of a taller destination
template <class S>
void gathered_rows() {
  for (Index n : sizes<S>())
    for (Index c : sizes<S>()) {
      const RowMajor<S> source = RowMajor<S>::Random(2 * n + 1, c);
      std::vector<Index> pick(static_cast<std::size_t>(n));
      for (Index r = 0; r < n; ++r) pick[static_cast<std::size_t>(r)] = r % 3 == 0 ? 0 : 2 * n - r;
      Matrix<S> d = Matrix<S>::Constant(n + 2, c, S(-7));
      tapeless::detail::transpose_rows<S>(
          n, c, [&](Index r) { return source.data() + pick[static_cast<std::size_t>(r)] * c; }, d.data(), n + 2);
      Index wrong = 0;
      for (Index r = 0; r < n; ++r)
        for (Index j = 0; j < c; ++j) wrong += d(r, j) != source(pick[static_cast<std::size_t>(r)], j);
      BOOST_TEST(wrong == 0, wrong << " coefficients wrong, " << n << " rows of " << c);
      BOOST_TEST((d.bottomRows(2).array() == S(-7)).all(), "written below the destination, " << n << "x" << c);
    }
}

template <class S>
void transposed_matrix() {
  for (Index k : sizes<S>())
    for (Index m : sizes<S>()) {
      const Matrix<S> x_store = Matrix<S>::Random(k + 2, m);
      Matrix<S> t = Matrix<S>::Constant(m + 1, k, S(-1));
      tapeless::detail::transpose_into<S>(k, m, x_store.data(), k + 2, t.data(), m + 1);
      BOOST_TEST((t.topRows(m).array() == x_store.topRows(k).transpose().array()).all(), "k " << k << " m " << m);
      BOOST_TEST((t.bottomRows(1).array() == S(-1)).all());
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(gathered_rows_are_copied_exactly) {
  gathered_rows<float>();
  gathered_rows<double>();
}

BOOST_AUTO_TEST_CASE(a_matrix_is_transposed_exactly) {
  transposed_matrix<float>();
  transposed_matrix<double>();
}
