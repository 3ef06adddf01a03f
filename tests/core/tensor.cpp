// core/tensor.hpp: construction, checked assignment, batch resizing.
#define BOOST_TEST_MODULE core_tensor
#include "tapeless/core/tensor.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace tapeless;

BOOST_AUTO_TEST_CASE(construction) {
  Tensor<double, 2, 3> zeros;
  BOOST_TEST(zeros.value().isZero());
  Tensor<float, 2, 2> t{{1, 2}, {3, 4}};
  BOOST_TEST(t(1, 0) == 3.f);
  Scalar<double> s{2.5};
  BOOST_TEST(s.scalar() == 2.5);
  Tensor<double, dynamic, 3> batch(7);
  BOOST_TEST(batch.rows() == 7);
  BOOST_TEST(batch.value().isZero());
}

BOOST_AUTO_TEST_CASE(storage_is_inline_when_small_and_heap_when_large) {
  // fixed-size: both dimensions static and at most 16, or one row or column of at most 1024
  static_assert(std::is_same_v<Tensor<float, 16, 16>::storage_type, Eigen::Matrix<float, 16, 16>>);
  static_assert(std::is_same_v<Tensor<float, 1, 784>::storage_type, Eigen::Matrix<float, 1, 784>>);
  static_assert(std::is_same_v<Tensor<float, 1024, 1>::storage_type, Eigen::Matrix<float, 1024, 1>>);
  // otherwise one dynamic type per scalar (a row or a column keeps its static 1)
  static_assert(std::is_same_v<Tensor<float, 17, 16>::storage_type, Eigen::MatrixXf>);
  static_assert(std::is_same_v<Tensor<float, 784, 256>::storage_type, Eigen::MatrixXf>);
  static_assert(std::is_same_v<Tensor<float, dynamic, 10>::storage_type, Eigen::MatrixXf>);
  static_assert(std::is_same_v<Tensor<float, 1, 1025>::storage_type, Eigen::RowVectorXf>);
  static_assert(std::is_same_v<Tensor<float, dynamic, 1>::storage_type, Eigen::VectorXf>);
  // network parameters: fixed-size up to 64x64
  static_assert(std::is_same_v<TensorRef<float, 64, 64>::storage_type, Eigen::Map<Eigen::Matrix<float, 64, 64>>>);
  static_assert(std::is_same_v<TensorRef<float, 65, 64>::storage_type, Eigen::Map<Eigen::MatrixXf>>);
  static_assert(std::is_same_v<TensorRef<float, 1, 256>::storage_type, Eigen::Map<Eigen::Matrix<float, 1, 256>>>);
  Tensor<float, 784, 256> big;
  BOOST_TEST((big.value().rows() == 784));
  BOOST_TEST((big.value().cols() == 256));
}

BOOST_AUTO_TEST_CASE(mismatched_assignment_throws_and_changes_nothing) {
  Tensor<double, 2, 2> t{{1, 2}, {3, 4}};
  const Eigen::Matrix2d before = t.value();
  try {
    t = Eigen::MatrixXd::Zero(3, 3);
    BOOST_FAIL("must throw");
  } catch (const shape_error& e) {
    BOOST_TEST(std::string(e.what()) == "tapeless::Tensor: cannot assign a 3x3 matrix to a 2x2 tensor");
  }
  BOOST_TEST((t.value() == before));
  BOOST_CHECK_THROW((Tensor<double, 2, 2>{{1, 2, 3}, {4, 5, 6}}), shape_error);
  BOOST_CHECK_THROW((Tensor<double, 2, 2>{{1, 2}}), shape_error);
}

BOOST_AUTO_TEST_CASE(dynamic_rows_take_the_assigned_batch) {
  Tensor<double, dynamic, 2> t;
  t = Eigen::MatrixXd::Ones(5, 2);
  BOOST_TEST(t.rows() == 5);
  t.resize(3);
  BOOST_TEST(t.rows() == 3);
  BOOST_CHECK_THROW(t = Eigen::MatrixXd::Ones(5, 3), shape_error);
}

// A TensorRef (a network parameter's view) checks what is assigned to it as a Tensor does; its
// value() is the unchecked map.
BOOST_AUTO_TEST_CASE(a_tensor_ref_checks_what_is_assigned_to_it) {
  std::vector<double> values(70 * 3 + 6, 0.5), gradients(values.size());
  TensorRef<double, 2, 3> small(values.data(), gradients.data());
  TensorRef<double, 70, 3> large(values.data() + 6, gradients.data() + 6);  // a heap-sized (dynamic) map
  BOOST_CHECK_THROW(small = Eigen::MatrixXd::Ones(3, 2), shape_error);
  BOOST_CHECK_THROW(large = Eigen::MatrixXd::Ones(71, 3), shape_error);
  BOOST_TEST(std::count(values.begin(), values.end(), 0.5) == static_cast<long>(values.size()));
  small = Eigen::Matrix<float, 2, 3>::Constant(2.0f);  // converts the scalar
  large = Eigen::MatrixXd::Constant(70, 3, 3.0);
  BOOST_TEST(small.value().sum() == 12.0);
  BOOST_TEST(large.value().sum() == 630.0);
  BOOST_TEST(values.back() == 3.0);
}
