// Product gives Eigen's product for every shape it meets in a program, transposed operands
// and accumulation included, and allocates nothing once reserved: GEMM shapes with the reserved
// buffers, depth-1 products (a batch of one) as outer products.
#include "support/eigen_guard.hpp"  // before Eigen: its heap guard on in Release too
#define BOOST_TEST_MODULE core_product
#include "tapeless/core/product.hpp"

#include "support/allocation_counter.hpp"

#include <boost/test/unit_test.hpp>

#include <type_traits>
#include <utility>

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

// Every storage order an op can hand a Product (row-major operands, a row-vector destination,
// blocks with an outer stride, fixed-size operands, matrix-vector) gives Eigen's product.
BOOST_AUTO_TEST_CASE(every_storage_order_gives_eigens_product) {
  using Row = Eigen::Matrix<double, 1, Eigen::Dynamic>;
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const M w = M::Random(40, 30), x = M::Random(50, 40), g = M::Random(50, 30);
  const RowMajor xr = x;
  for (tapeless::Index depth : {40, 2}) {  // GEMM with reserved buffers, and Eigen's own path
    const M xs = x.leftCols(depth), ws = w.topRows(depth);
    check(xs, ws, depth);
    check(RowMajor(xs), ws, depth);
    check(xs, RowMajor(ws), depth);
    check(RowMajor(xs), RowMajor(ws).transpose().transpose(), depth);
  }
  check(xr.transpose(), g, 50);
  // a row-major destination (a batch of one)
  const Row x1 = Row::Random(40);
  for (bool add : {false, true}) {
    tapeless::Product<double> p;
    Row y = Row::Random(30);
    const Row before = y;
    if (add)
      p.add(y, x1, w);
    else
      p.assign(y, x1, w);
    const Row expect = (add ? before : Row::Zero(30)) + x1 * w;
    BOOST_TEST((y - expect).cwiseAbs().maxCoeff() < 1e-12);
  }
  // blocks with an outer stride, a fixed-size operand and a matrix-vector product
  M big = M::Random(60, 50);
  const Eigen::Matrix<double, 40, 30> wf = w;
  tapeless::Product<double> p;
  auto block = big.block(3, 4, 50, 30);
  p.assign(block, x, wf);
  BOOST_TEST((big.block(3, 4, 50, 30) - x * w).cwiseAbs().maxCoeff() < 1e-12);
  const Eigen::VectorXd v = Eigen::VectorXd::Random(30);
  Eigen::VectorXd y(40);
  p.assign(y, w, v);
  BOOST_TEST((y - w * v).cwiseAbs().maxCoeff() < 1e-12);
}

// A run-time batch of one row (y = x w and dx = g w^T with one row known only at run time) is
// one GEMV on the rows as vectors, and dw = x^T g one product per coefficient: Eigen's own product's bits, assigned and
// added, without allocating, for shapes Eigen multiplies by GEMV and for those small enough for its coefficient-wise
// product; a row that is not contiguous takes Eigen's path, and so does a row-major weight.
BOOST_AUTO_TEST_CASE(a_run_time_batch_of_one_row_gives_eigens_bits) {
  using F = Eigen::MatrixXf;
  for (auto [k, n] : {std::pair<int, int>{4, 16}, {16, 3}, {784, 128}, {33, 17}, {4, 3}, {2, 5}}) {
    const F w = F::Random(k, n);
    const Eigen::Map<const Eigen::MatrixXf> w_map(w.data(), k, n);
    const F x = F::Random(1, k), g = F::Random(1, n);
    for (bool add : {false, true}) {
      tapeless::Product<float> p;
      F y = F::Random(1, n), dx = F::Random(1, k), dw = F::Random(k, n);
      F y_eigen = y, dx_eigen = dx, dw_each = dw;
      const long allocations = test::allocations_during([&] {
        p.run(y, x, w_map, add ? tapeless::Write::add : tapeless::Write::assign);
        p.run(dx, g, w_map.transpose(), add ? tapeless::Write::add : tapeless::Write::assign);
        p.run(dw, x.transpose(), g, add ? tapeless::Write::add : tapeless::Write::assign);  // depth 1
      });
      for (int i = 0; i < k; ++i)
        for (int j = 0; j < n; ++j) dw_each(i, j) = (add ? dw_each(i, j) : 0.0f) + x(0, i) * g(0, j);
      BOOST_TEST((dw.array() == dw_each.array()).all(), "dw, " << k << "x" << n << (add ? " added" : ""));
      BOOST_TEST(allocations == 0);
      if (add) {
        y_eigen.noalias() += x * w_map;
        dx_eigen.noalias() += g * w_map.transpose();
      } else {
        y_eigen.noalias() = x * w_map;
        dx_eigen.noalias() = g * w_map.transpose();
      }
      BOOST_TEST((y.array() == y_eigen.array()).all(), "y, " << k << "x" << n << (add ? " added" : ""));
      BOOST_TEST((dx.array() == dx_eigen.array()).all(), "dx, " << k << "x" << n << (add ? " added" : ""));
    }
  }
  // a row of a taller matrix (not contiguous) and a destination row inside a block
  F tall = F::Random(5, 16), out = F::Random(3, 4);
  const F w = F::Random(16, 4);
  auto row = tall.middleRows(2, 1);
  auto dst = out.middleRows(1, 1);
  tapeless::Product<float> p;
  p.assign(dst, row, w);
  const F expect = tall.row(2) * w;
  BOOST_TEST((out.row(1).array() == expect.array()).all());
  const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> w_rows = w;
  F y = F::Random(1, 4), y_eigen(1, 4);
  const F x = F::Random(1, 16);
  p.assign(y, x, w_rows);
  y_eigen.noalias() = x * w_rows;
  BOOST_TEST((y.array() == y_eigen.array()).all());
}

// Fixed-size operands: the sizes decide the path at compile time. A GEMM shape goes through
// Eigen's GEMM kernel even when the Product was not reserved for it (Eigen's stack buffers, as
// Eigen's own product of fixed sizes uses), a fixed depth of one is the outer product, a small
// shape Eigen's coefficient-wise product; each gives Eigen's bits, assigned and added, with the
// mode given at run time or as a compile-time constant, and allocates nothing.
BOOST_AUTO_TEST_CASE(fixed_sizes_choose_the_path_at_compile_time) {
  using tapeless::Write;
  auto each = [](auto a, auto b, auto dst) {
    using Dst = decltype(dst);
    for (int mode = 0; mode < 4; ++mode) {
      const bool add = mode % 2 == 1;
      tapeless::Product<double> p;  // not reserved
      Dst y = dst, expect = dst;
      const long allocations = test::allocations_during([&] {
        if (mode < 2)
          p.run(y, a, b, add ? Write::add : Write::assign);
        else if (add)
          p.run(y, a, b, std::integral_constant<Write, Write::add>{});
        else
          p.run(y, a, b, std::integral_constant<Write, Write::assign>{});
      });
      if (add)
        expect.noalias() += a * b;
      else
        expect.noalias() = a * b;
      BOOST_TEST(allocations == 0);
      BOOST_TEST((y.array() == expect.array()).all(), Dst::RowsAtCompileTime << "x" << Dst::ColsAtCompileTime
                                                                             << " by depth " << a.cols() << ", mode "
                                                                             << mode);
    }
  };
  static_assert(tapeless::Product<double>::uses_gemm(24, 16, 20) && !tapeless::Product<double>::uses_gemm(4, 3, 5));
  each(Eigen::Matrix<double, 24, 20>::Random().eval(), Eigen::Matrix<double, 20, 16>::Random().eval(),
       Eigen::Matrix<double, 24, 16>::Random().eval());  // GEMM
  const Eigen::Matrix<double, 16, 24> xt = Eigen::Matrix<double, 16, 24>::Random();
  each(xt.transpose(), Eigen::Matrix<double, 16, 16>::Random().eval(),
       Eigen::Matrix<double, 24, 16>::Random().eval());  // GEMM, a transposed operand
  each(Eigen::Matrix<double, 24, 1>::Random().eval(), Eigen::Matrix<double, 1, 16>::Random().eval(),
       Eigen::Matrix<double, 24, 16>::Random().eval());  // depth 1
  each(Eigen::Matrix<double, 4, 5>::Random().eval(), Eigen::Matrix<double, 5, 3>::Random().eval(),
       Eigen::Matrix<double, 4, 3>::Random().eval());  // coefficient-wise
  // one fixed row (a fixed batch of one): Eigen's GEMV kernel where Eigen would use it, with the
  // weight as stored and transposed (y = x w, dx = g w^T), and Eigen's coefficient-wise product
  // where it would use that
  constexpr int gemv = Eigen::GemvProduct;
  static_assert(
      Eigen::internal::product_type<Eigen::Matrix<double, 1, 16>, Eigen::Matrix<double, 16, 32>>::value == gemv &&
      Eigen::internal::product_type<Eigen::Matrix<double, 1, 32>, Eigen::Matrix<double, 32, 4>>::value != gemv);
  each(Eigen::Matrix<double, 1, 16>::Random().eval(), Eigen::Matrix<double, 16, 32>::Random().eval(),
       Eigen::Matrix<double, 1, 32>::Random().eval());
  const Eigen::Matrix<double, 24, 16> w = Eigen::Matrix<double, 24, 16>::Random();
  each(Eigen::Matrix<double, 1, 16>::Random().eval(), w.transpose(), Eigen::Matrix<double, 1, 24>::Random().eval());
  const Eigen::Map<const Eigen::Matrix<double, 24, 16>> w_map(w.data());
  each(Eigen::Matrix<double, 1, 24>::Random().eval(), w_map, Eigen::Matrix<double, 1, 16>::Random().eval());
  each(Eigen::Matrix<double, 1, 32>::Random().eval(), Eigen::Matrix<double, 32, 4>::Random().eval(),
       Eigen::Matrix<double, 1, 4>::Random().eval());
}
