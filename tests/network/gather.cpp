// network/gather.hpp: gather_rows copies the picked rows exactly, through the packet path (a
// row-major source, a column-major batch of the same scalar) and the row-by-row one (another
// scalar, a column-major source), into a Tensor or a block, without allocating; mismatched
// columns, too few indices and an index outside the source throw before anything is written.
#include "support/eigen_guard.hpp"  // before Eigen: its heap guard on in Release too
#define BOOST_TEST_MODULE network_gather
#include "tapeless/network/gather.hpp"

#include "support/allocation_counter.hpp"

#include <boost/test/unit_test.hpp>

#include <span>
#include <stdexcept>
#include <vector>

using tapeless::Index;

namespace {

template <class S>
using RowMajor = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class Batch, class Source, class Rows>
bool rows_equal(const Batch& batch, const Source& source, const Rows& rows) {
  for (Index r = 0; r < batch.rows(); ++r)
    for (Index j = 0; j < batch.cols(); ++j)
      if (batch(r, j) !=
          static_cast<typename Batch::Scalar>(source(static_cast<Index>(rows[static_cast<std::size_t>(r)]), j)))
        return false;
  return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(picked_rows_land_in_the_batch_exactly) {
  constexpr Index L = Eigen::internal::packet_traits<float>::size;
  for (Index n : {Index(1), L - 1, L, 3 * L + 2})
    for (Index c : {Index(3), L, 2 * L + 5}) {
      const RowMajor<float> images = RowMajor<float>::Random(4 * n + 3, c);
      std::vector<Index> order;
      for (Index r = 0; r < n; ++r) order.push_back((7 * r + 5) % images.rows());
      Eigen::MatrixXf batch(n, c);
      const long allocations = test::allocations_during([&] { tapeless::gather_rows(batch, images, order); });
      BOOST_TEST(allocations == 0);
      BOOST_TEST(rows_equal(batch, images, order), n << " rows of " << c);
      // double, from int indices in a span
      const RowMajor<double> wide = images.cast<double>();
      std::vector<int> picks(order.begin(), order.end());
      Eigen::MatrixXd batch_d(n, c);
      tapeless::gather_rows(batch_d, wide, std::span<const int>(picks));
      BOOST_TEST(rows_equal(batch_d, wide, picks));
      // row by row: a column-major source, and a source of another scalar
      const Eigen::MatrixXf column_major = images;
      Eigen::MatrixXf batch_c(n, c);
      tapeless::gather_rows(batch_c, column_major, order);
      BOOST_TEST((batch_c.array() == batch.array()).all());
      const RowMajor<unsigned char> bytes = (images.array().abs() * 200).cast<unsigned char>();
      Eigen::MatrixXf batch_b(n, c);
      tapeless::gather_rows(batch_b, bytes, order);
      BOOST_TEST(rows_equal(batch_b, bytes, order));
    }
}

BOOST_AUTO_TEST_CASE(a_tensor_and_a_block_take_the_rows) {
  const RowMajor<float> images = RowMajor<float>::Random(50, 20);
  const std::vector<Index> order{49, 0, 17, 17, 3};
  tapeless::Tensor<float, tapeless::dynamic, 20> inputs(5);
  tapeless::gather_rows(inputs, images, order);
  BOOST_TEST(rows_equal(inputs.value(), images, order));
  Eigen::MatrixXf tall = Eigen::MatrixXf::Constant(8, 20, -1.0f);
  auto top = tall.topRows(5);
  tapeless::gather_rows(top, images, order);
  BOOST_TEST(rows_equal(tall.topRows(5), images, order));
  BOOST_TEST((tall.bottomRows(3).array() == -1.0f).all());
}

BOOST_AUTO_TEST_CASE(bad_shapes_and_indices_throw_and_write_nothing) {
  const RowMajor<float> images = RowMajor<float>::Random(10, 6);
  Eigen::MatrixXf batch = Eigen::MatrixXf::Constant(4, 6, 5.0f);
  const Eigen::MatrixXf before = batch;
  BOOST_CHECK_THROW(tapeless::gather_rows(batch, images, std::vector<Index>{1, 2, 3}), tapeless::shape_error);
  Eigen::MatrixXf narrow(4, 5);
  BOOST_CHECK_THROW(tapeless::gather_rows(narrow, images, std::vector<Index>{1, 2, 3, 4}), tapeless::shape_error);
  BOOST_CHECK_THROW(tapeless::gather_rows(batch, images, std::vector<Index>{1, 2, 10, 4}), std::out_of_range);
  BOOST_CHECK_THROW(tapeless::gather_rows(batch, images, std::vector<int>{1, -1, 2, 4}), std::out_of_range);
  BOOST_TEST((batch.array() == before.array()).all());
  try {
    tapeless::gather_rows(batch, images, std::vector<Index>{1, 2, 10, 4});
  } catch (const std::out_of_range& e) {
    BOOST_TEST(
        std::string(e.what()).find("index 10 (for batch row 2) outside the source's 10 rows") != std::string::npos,
        e.what());
  }
}
