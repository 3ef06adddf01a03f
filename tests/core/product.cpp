// Product gives Eigen's product for every shape it meets in a program, transposed operands
// and accumulation included, and allocates nothing once reserved: GEMM shapes with the reserved
// buffers, depth-1 products (a batch of one) as outer products.
#define EIGEN_RUNTIME_NO_MALLOC
#define BOOST_TEST_MODULE core_product
#include "tapeless/core/product.hpp"

#include "support/allocation_counter.hpp"

#include <boost/test/unit_test.hpp>

namespace {

using M = Eigen::MatrixXd;

template <class A, class B>
void check(const A& a, const B& b, tapeless::Index depth) {
  tapeless::Product<double> gemm;
  gemm.reserve(a.rows(), b.cols(), depth);
  M dst = M::Random(a.rows(), b.cols());
  const M before = dst;
  const M product = a * b;
  long n = test::allocations_during([&] { gemm.assign(dst, a, b); });
  BOOST_TEST(n == 0);
  BOOST_TEST((dst - product).cwiseAbs().maxCoeff() < 1e-12);
  dst = before;
  n = test::allocations_during([&] { gemm.add(dst, a, b); });
  BOOST_TEST(n == 0);
  BOOST_TEST((dst - before - product).cwiseAbs().maxCoeff() < 1e-12);
}

}  // namespace

BOOST_AUTO_TEST_CASE(depth_one_is_an_outer_product_without_allocation) {
  BOOST_TEST(!tapeless::Product<double>::uses_gemm(784, 128, 1));
  const M x = M::Random(1, 784), g = M::Random(1, 128);
  check(x.transpose(), g, 1);  // dW = x^T g at batch 1
  const M a = M::Random(300, 1), b = M::Random(1, 200);
  check(a, b, 1);
}

BOOST_AUTO_TEST_CASE(gemm_shapes_use_the_reserved_buffers) {
  BOOST_TEST(tapeless::Product<double>::uses_gemm(784, 128, 64));
  const M x = M::Random(64, 784), w = M::Random(784, 128), g = M::Random(64, 128);
  check(x, w, 784);              // forward: x W
  check(x.transpose(), g, 64);   // dW = x^T g
  check(g, w.transpose(), 128);  // dx = g W^T
}
