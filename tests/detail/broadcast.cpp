// detail/broadcast.hpp: add_to_rows adds the bias row to every row, the same bits as the
// coefficient loop, for a row fixed at compile time, a run-time batch of one row, many rows,
// and a block whose one row is not contiguous.
#define BOOST_TEST_MODULE detail_broadcast
#include "tapeless/detail/broadcast.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <utility>

namespace {
template <class Y, class B>
void expect_rows_added(const Y& original, const B& b) {
  Y y = original;
  Eigen::MatrixXf expected = y;
  for (Eigen::Index i = 0; i < y.rows(); ++i)
    for (Eigen::Index j = 0; j < y.cols(); ++j) expected(i, j) += b(0, j);
  tapeless::detail::add_to_rows(y, b);
  BOOST_TEST((Eigen::MatrixXf(y).array() == expected.array()).all());
}
}  // namespace

BOOST_AUTO_TEST_CASE(the_bias_row_is_added_to_every_row_in_every_layout) {
  const Eigen::Matrix<float, 1, 19> b = Eigen::Matrix<float, 1, 19>::LinSpaced(0.1f, 1.9f);
  expect_rows_added<Eigen::Matrix<float, 1, 19>>(Eigen::Matrix<float, 1, 19>::LinSpaced(-3.0f, 2.7f), b);  // fixed row
  expect_rows_added<Eigen::Matrix<float, Eigen::Dynamic, 19>>(Eigen::Matrix<float, Eigen::Dynamic, 19>::Random(1, 19),
                                                              b);         // run-time batch of 1
  expect_rows_added<Eigen::MatrixXf>(Eigen::MatrixXf::Random(1, 19), b);  // fully dynamic
  expect_rows_added<Eigen::Matrix<float, Eigen::Dynamic, 19>>(Eigen::Matrix<float, Eigen::Dynamic, 19>::Random(7, 19),
                                                              b);  // many rows
  expect_rows_added<Eigen::Matrix<float, 16, 19, Eigen::RowMajor>>(
      Eigen::Matrix<float, 16, 19, Eigen::RowMajor>::Random(), b);  // row-major
  Eigen::MatrixXf big = Eigen::MatrixXf::Random(5, 19);
  Eigen::MatrixXf before = big;
  auto row = big.middleRows(2, 1);  // one row, not contiguous: rowwise
  tapeless::detail::add_to_rows(row, b);
  before.row(2) += b;
  BOOST_TEST((big.array() == before.array()).all());
}

namespace {
// The column sums with_column_sums passes, as a matrix, and whether they came as the row itself
// (a view with data(), not a per-column reduction).
template <class G>
std::pair<Eigen::MatrixXf, bool> column_sums_of(const G& g) {
  std::pair<Eigen::MatrixXf, bool> out;
  tapeless::detail::with_column_sums(g, [&](const auto& sums) {
    out = {Eigen::MatrixXf(sums), requires {sums.data(); }
};
});
return out;
}
}  // namespace

BOOST_AUTO_TEST_CASE(column_sums_have_colwise_sums_bits_and_one_row_is_passed_as_a_row) {
  Eigen::MatrixXf one = Eigen::MatrixXf::Random(1, 19);
  one(0, 3) = -0.0f;  // a sum of one coefficient keeps its sign
  const auto [sums_one, as_row] = column_sums_of(one);
  BOOST_TEST(as_row);  // the run-time batch of one row: not a per-column reduction
  BOOST_TEST((sums_one.array() == one.array()).all());
  BOOST_TEST(std::signbit(sums_one(0, 3)));
  const Eigen::Matrix<float, Eigen::Dynamic, 19> one_fixed_cols = one;
  BOOST_TEST(column_sums_of(one_fixed_cols).second);
  BOOST_TEST((column_sums_of(one_fixed_cols).first.array() == one.array()).all());

  const Eigen::MatrixXf many = Eigen::MatrixXf::Random(7, 19);
  const auto [sums_many, many_as_row] = column_sums_of(many);
  BOOST_TEST(!many_as_row);
  BOOST_TEST((sums_many.array() == Eigen::MatrixXf(many.colwise().sum()).array()).all());

  const Eigen::MatrixXf big = Eigen::MatrixXf::Random(5, 19);
  const auto block = big.middleRows(2, 1);  // one row, not contiguous: colwise
  const auto [sums_block, block_as_row] = column_sums_of(block);
  BOOST_TEST(!block_as_row);
  BOOST_TEST((sums_block.array() == big.row(2).array()).all());
}
