// Product gives Eigen's product for every shape it meets in a program, transposed operands
// and accumulation included, and allocates nothing once reserved: GEMM shapes with the reserved
// buffers, depth-1 products (a batch of one) as outer products.
#include "support/eigen_guard.hpp"  // before Eigen: its heap guard on in Release too
#define BOOST_TEST_MODULE core_product
#include "tapeless/core/product.hpp"

#include "support/allocation_counter.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

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

/// Eigen's own products for one row, the references: y (+)= x w and dx (+)= g w^T.
template <class Y, class DX, class X, class G, class W>
void eigen_row_products(Y& y, DX& dx, const X& x, const G& g, const W& w, bool add) {
  if (add) {
    y.noalias() += x * w;
    dx.noalias() += g * w.transpose();
  } else {
    y.noalias() = x * w;
    dx.noalias() = g * w.transpose();
  }
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
// one GEMV on the rows as vectors, Eigen's own product's bits, for shapes Eigen multiplies by GEMV; a shape Eigen
// multiplies coefficient-wise takes the plain loop (within rounding: a compiler may fuse its multiply-adds); dw = x^T g
// is one product per coefficient (exact when assigned; added, within rounding for the same reason). All without
// allocating. A row that is not contiguous takes Eigen's GEMM kernel (its rounding, not Eigen's product's), and a
// row-major weight the GEMV kernel too.
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
      if (add)
        BOOST_TEST((dw - dw_each).cwiseAbs().maxCoeff() < 1e-6f, "dw, " << k << "x" << n << " added");
      else
        BOOST_TEST((dw.array() == dw_each.array()).all(), "dw, " << k << "x" << n);
      BOOST_TEST(allocations == 0);
      eigen_row_products(y_eigen, dx_eigen, x, g, w_map, add);
      if (k + 1 + n >= EIGEN_GEMM_TO_COEFFBASED_THRESHOLD) {  // GEMV: Eigen's bits
        BOOST_TEST((y.array() == y_eigen.array()).all(), "y, " << k << "x" << n << (add ? " added" : ""));
        BOOST_TEST((dx.array() == dx_eigen.array()).all(), "dx, " << k << "x" << n << (add ? " added" : ""));
      } else {
        BOOST_TEST((y - y_eigen).cwiseAbs().maxCoeff() < 1e-5f, "y, " << k << "x" << n << (add ? " added" : ""));
        BOOST_TEST((dx - dx_eigen).cwiseAbs().maxCoeff() < 1e-5f, "dx, " << k << "x" << n << (add ? " added" : ""));
      }
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
  BOOST_TEST((out.row(1) - expect).cwiseAbs().maxCoeff() < 1e-5f);
  const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> w_rows = w;
  F y = F::Random(1, 4), y_eigen(1, 4);
  const F x = F::Random(1, 16);
  p.assign(y, x, w_rows);
  y_eigen.noalias() = x * w_rows;
  BOOST_TEST((y.array() == y_eigen.array()).all());
}

// A run-time batch of one row times a weight of fixed size (every Linear layer's) is computed as
// a fixed batch of one is: the same bits as Eigen's product of the fixed shapes, which is GEMV for
// some (1x16 times 16x16) and an unrolled coefficient-wise product for small ones (1x4 times
// 4x16, 1x16 times 16x3: Product gathers those into one vector before it stores them), and so the
// same bits as a fixed batch of one through Product. For y = x w and dx = g w^T, assigned and
// added, without allocating.
template <class S, int K, int N>
void run_time_row_as_fixed_row() {
  using F = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  const Eigen::Matrix<S, K, N> w = Eigen::Matrix<S, K, N>::Random();
  const Eigen::Map<const Eigen::Matrix<S, K, N>> w_map(w.data());
  const Eigen::Matrix<S, 1, K> x = Eigen::Matrix<S, 1, K>::Random();
  const Eigen::Matrix<S, 1, N> g = Eigen::Matrix<S, 1, N>::Random();
  const F x_run = x, g_run = g;  // one row, known only at run time
  for (bool add : {false, true}) {
    const auto mode = add ? tapeless::Write::add : tapeless::Write::assign;
    const Eigen::Matrix<S, 1, N> y0 = Eigen::Matrix<S, 1, N>::Random();
    const Eigen::Matrix<S, 1, K> dx0 = Eigen::Matrix<S, 1, K>::Random();
    F y = y0, dx = dx0;  // run-time rows
    Eigen::Matrix<S, 1, N> y_fixed = y0, y_eigen = y0;
    Eigen::Matrix<S, 1, K> dx_fixed = dx0, dx_eigen = dx0;
    tapeless::Product<S> p;
    const long allocations = test::allocations_during([&] {
      p.run(y, x_run, w_map, mode);
      p.run(dx, g_run, w_map.transpose(), mode);
    });
    p.run(y_fixed, x, w_map, mode);
    p.run(dx_fixed, g, w_map.transpose(), mode);
    eigen_row_products(y_eigen, dx_eigen, x, g, w_map, add);
    const std::string shape = std::to_string(K) + "x" + std::to_string(N) + (add ? " added" : "");
    BOOST_TEST(allocations == 0);
    BOOST_TEST((y.array() == y_eigen.array()).all(), "y, " << shape);
    BOOST_TEST((dx.array() == dx_eigen.array()).all(), "dx, " << shape);
    BOOST_TEST((y.array() == y_fixed.array()).all(), "y against a fixed row, " << shape);
    BOOST_TEST((dx.array() == dx_fixed.array()).all(), "dx against a fixed row, " << shape);
  }
}

BOOST_AUTO_TEST_CASE(a_run_time_batch_of_one_row_with_a_fixed_weight_gives_a_fixed_rows_bits) {
  constexpr int gemv = Eigen::GemvProduct;
  using row4 = Eigen::Matrix<float, 1, 4>;
  using row16 = Eigen::Matrix<float, 1, 16>;
  static_assert(Eigen::internal::product_type<row4, Eigen::Matrix<float, 4, 16>>::value != gemv &&
                Eigen::internal::product_type<row16, Eigen::Matrix<float, 16, 3>>::value != gemv &&
                Eigen::internal::product_type<row16, Eigen::Matrix<float, 16, 16>>::value == gemv);
  run_time_row_as_fixed_row<float, 4, 16>();
  run_time_row_as_fixed_row<float, 16, 3>();
  run_time_row_as_fixed_row<float, 4, 3>();
  run_time_row_as_fixed_row<float, 16, 16>();
  run_time_row_as_fixed_row<float, 33, 17>();
  run_time_row_as_fixed_row<float, 256, 10>();
  // coefficient-wise products of other widths: not a power of two, 128 bytes, past them
  run_time_row_as_fixed_row<float, 4, 10>();
  run_time_row_as_fixed_row<float, 3, 32>();
  run_time_row_as_fixed_row<float, 2, 33>();
  run_time_row_as_fixed_row<double, 4, 16>();
  run_time_row_as_fixed_row<double, 5, 7>();
}

// A fixed row that is not contiguous (a row of a column-major matrix) or sits in a block still
// gets Eigen's coefficient-wise product, assigned and added.
BOOST_AUTO_TEST_CASE(a_small_fixed_row_inside_a_matrix_gets_eigens_bits) {
  const Eigen::Matrix<float, 4, 16> w = Eigen::Matrix<float, 4, 16>::Random();
  const Eigen::Matrix<float, 1, 4> x = Eigen::Matrix<float, 1, 4>::Random();
  for (bool add : {false, true}) {
    Eigen::Matrix<float, 3, 16> out = Eigen::Matrix<float, 3, 16>::Random();
    Eigen::Matrix<float, 3, 16> expect = out;
    auto row = out.row(1);  // inner stride 3
    tapeless::Product<float> p;
    p.run(row, x, w, add ? tapeless::Write::add : tapeless::Write::assign);
    if (add)
      expect.row(1).noalias() += x * w;
    else
      expect.row(1).noalias() = x * w;
    BOOST_TEST((out.array() == expect.array()).all(), (add ? "added" : "assigned"));
  }
}

// The product the unpacked kernel computes (detail/unpacked_gemm.hpp): dst (+)= a b for a plain
// column-major a, and dst (+)= a^T g for a = x^T. Under TAPELESS_PLAIN_EIGEN, Eigen's product.
template <class Dst, class A, class B>
void unpacked_reference(Dst& dst, const A& a, const B& b, bool add) {
  namespace ec = tapeless::detail::eigen_compat;
  using S = typename Dst::Scalar;
  if constexpr (!ec::owns_gemm_buffers) {
    if (add)
      dst.noalias() += a * b;
    else
      dst.noalias() = a * b;
  } else if constexpr (ec::gemm_operand<A>::transposed) {
    const auto& x = a.nestedExpression();
    auto run = [&](auto w) {
      tapeless::detail::unpacked_gemm_tn<decltype(w)::value, S>(x.rows(), dst.rows(), dst.cols(), x.data(),
                                                                x.outerStride(), b.data(), b.outerStride(), dst.data(),
                                                                dst.outerStride());
    };
    add ? run(std::true_type{}) : run(std::false_type{});
  } else {
    const auto& pb = ec::gemm_operand<B>::plain(b);
    const bool col = ec::gemm_order<B>() == Eigen::ColMajor;
    auto run = [&](auto w) {
      tapeless::detail::unpacked_gemm<decltype(w)::value, S>(dst.rows(), dst.cols(), a.cols(), a.data(),
                                                             a.outerStride(), pb.data(), col ? 1 : pb.outerStride(),
                                                             col ? pb.outerStride() : 1, dst.data(), dst.outerStride());
    };
    add ? run(std::true_type{}) : run(std::false_type{});
  }
}

// Fixed-size operands: the sizes decide the path at compile time. A GEMM shape of at least a
// packet of rows with a plain left operand takes the unpacked kernel; another GEMM shape goes
// through Eigen's GEMM kernel even when the Product was not reserved for it (Eigen's stack
// buffers, as Eigen's own product of fixed sizes uses), a fixed depth of one is the outer
// product, a small shape Eigen's coefficient-wise product; each gives its kernel's bits, assigned
// and added, with the mode given at run time or as a compile-time constant, and allocates nothing.
BOOST_AUTO_TEST_CASE(fixed_sizes_choose_the_path_at_compile_time) {
  using tapeless::Write;
  auto each = [](auto a, auto b, auto dst, bool unpacked = false) {
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
      if (unpacked)
        unpacked_reference(expect, a, b, add);
      else if (add)
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
       Eigen::Matrix<double, 24, 16>::Random().eval(), true);  // GEMM shape: unpacked
  const Eigen::Matrix<double, 16, 24> xt = Eigen::Matrix<double, 16, 24>::Random();
  each(xt.transpose(), Eigen::Matrix<double, 16, 16>::Random().eval(),
       Eigen::Matrix<double, 24, 16>::Random().eval());  // GEMM, a transposed operand: Eigen's GEMM
  each(xt.transpose(), Eigen::Matrix<double, 16, 2>::Random().eval(), Eigen::Matrix<double, 24, 2>::Random().eval(),
       true);  // a small x^T g (48 coefficients): unpacked
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

// Where the unpacked kernel runs (detail/unpacked_gemm.hpp), and where it does not: y = x w and
// dx = g w^T from a packet of rows up, with the weight fixed or dynamic, as stored, transposed
// or row-major, the batch fixed or known at run time, and a column-major destination inside a
// larger matrix; dw = x^T g for a fixed weight of at most 64 coefficients. Below a packet of
// rows, for a larger weight gradient and for a row-major left operand, Eigen's GEMM: its bits.
BOOST_AUTO_TEST_CASE(the_unpacked_kernel_takes_gemm_shapes_of_a_packet_of_rows_or_more) {
  using F = Eigen::MatrixXf;
  constexpr tapeless::Index L = Eigen::internal::packet_traits<float>::size;
  auto same = [](const auto& got, const auto& expect) { return (got.array() == expect.array()).all(); };
  for (tapeless::Index rows : {L, 3 * L + 1, 2 * L - 1, tapeless::Index(50)})
    for (bool add : {false, true}) {
      const F x = F::Random(rows, 20), w = F::Random(20, 12), g = F::Random(rows, 12);
      const Eigen::Matrix<float, 20, 12> wf = w;
      const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> wr = w;
      tapeless::Product<float> p;
      p.reserve(rows, 12, 20);
      const tapeless::Write mode = add ? tapeless::Write::add : tapeless::Write::assign;
      F start = F::Random(rows + 3, 20);
      F y = start.topRows(rows).leftCols(12), expect = y;
      const long allocations = test::allocations_during([&] { p.run(y, x, w, mode); });
      BOOST_TEST(allocations == 0);
      unpacked_reference(expect, x, w, add);
      BOOST_TEST(same(y, expect), "x w, " << rows << " rows");
      y = start.topRows(rows).leftCols(12);
      p.run(y, x, wf, mode);
      BOOST_TEST(same(y, expect), "x w (fixed w), " << rows << " rows");
      y = start.topRows(rows).leftCols(12);
      p.run(y, x, wr, mode);
      BOOST_TEST(same(y, expect), "x w (row-major w), " << rows << " rows");
      // g w^T into a block of a taller matrix
      F big = start;
      auto dx = big.topRows(rows);
      F dx_expect = start.topRows(rows);
      p.run(dx, g, w.transpose(), mode);
      unpacked_reference(dx_expect, g, w.transpose(), add);
      BOOST_TEST(same(big.topRows(rows), dx_expect), "g w^T, " << rows << " rows");
      BOOST_TEST(same(big.bottomRows(3), start.bottomRows(3)));
    }
  // dw = x^T g: a fixed 8 x 8 weight (64 coefficients) takes the unpacked kernel; 12 x 8 Eigen's GEMM
  const F x = F::Random(40, 12), g = F::Random(40, 8);
  Eigen::Matrix<float, 8, 8> dw_small = Eigen::Matrix<float, 8, 8>::Random(), small_expect = dw_small;
  Eigen::Matrix<float, 12, 8> dw_large = Eigen::Matrix<float, 12, 8>::Random(), large_expect = dw_large;
  tapeless::Product<float> p;
  p.add(dw_small, x.leftCols(8).transpose(), g);
  unpacked_reference(small_expect, x.leftCols(8).eval().transpose(), g, true);
  BOOST_TEST(same(dw_small, small_expect));
  p.add(dw_large, x.transpose(), g);
  large_expect.noalias() += x.transpose() * g;
  BOOST_TEST(same(dw_large, large_expect));
  // a weight above 64 x 64: the unpacked kernel with 32 vector registers, Eigen's GEMM with fewer
  {
    const F xl = F::Random(2 * L, 100), wl = F::Random(100, 50);
    F y(2 * L, 50), expect(2 * L, 50);
    tapeless::Product<float> pl;
    pl.reserve(2 * L, 50, 100);
    pl.assign(y, xl, wl);
    if (tapeless::detail::unpacked_registers >= 32)
      unpacked_reference(expect, xl, wl, false);
    else
      expect.noalias() = xl * wl;
    BOOST_TEST(same(y, expect), "100 x 50 weight, " << tapeless::detail::unpacked_registers << " registers");
  }
  // a run-time shape Eigen would multiply coefficient-wise (2 x 3 times 3 x 4): the plain loop,
  // without allocating (Eigen's product expression is not instantiated for dynamic operands)
  {
    const F xs = F::Random(2, 3), ws = F::Random(3, 4);
    F y = F::Random(2, 4);
    const F before = y;
    tapeless::Product<float> ps;
    const long allocations = test::allocations_during([&] { ps.add(y, xs, ws); });
    BOOST_TEST(allocations == 0);
    BOOST_TEST((y - before - xs * ws).cwiseAbs().maxCoeff() < 1e-5f);
  }
  // fewer rows than a packet, and a row-major left operand: Eigen's GEMM
  if constexpr (L > 2) {
    const F x2 = F::Random(L - 1, 20), w = F::Random(20, 12);
    F y(L - 1, 12), expect(L - 1, 12);
    p.assign(y, x2, w);
    expect.noalias() = x2 * w;
    BOOST_TEST(same(y, expect));
  }
  const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> xr = F::Random(50, 20);
  const F w = F::Random(20, 12);
  F y(50, 12), expect(50, 12);
  p.assign(y, xr, w);
  expect.noalias() = xr * w;
  BOOST_TEST(same(y, expect));
}

// dw = x^T g for a weight above 64 coefficients: with reserve_transposed, where the shape pays
// (detail::unpacked_gemm_at_pays), through the transposed panel (unpacked_gemm_at's bits), without
// allocating; where it does not pay, and in a Product reserved without the panel, Eigen's GEMM.
BOOST_AUTO_TEST_CASE(a_weight_gradient_reserved_transposed_takes_the_panel) {
  namespace ec = tapeless::detail::eigen_compat;
  using F = Eigen::MatrixXf;
  constexpr tapeless::Index L = Eigen::internal::packet_traits<float>::size;
  auto same = [](const auto& got, const auto& expect) { return (got.array() == expect.array()).all(); };
  const tapeless::Index m = 3 * L + 1, n = 12;
  for (tapeless::Index batch : {tapeless::Index(5), L, tapeless::Index(40)})
    for (bool add : {false, true}) {
      const F x = F::Random(batch, m), g = F::Random(batch, n), start = F::Random(m, n);
      const tapeless::Write mode = add ? tapeless::Write::add : tapeless::Write::assign;
      tapeless::Product<float> p;
      p.reserve_transposed(m, n, batch);
      F dw = start, expect = start;
      const long allocations = test::allocations_during([&] { p.run(dw, x.transpose(), g, mode); });
      BOOST_TEST(allocations == 0);
      const bool panel = ec::owns_gemm_buffers && tapeless::Product<float>::uses_gemm(m, n, batch) &&
                         tapeless::detail::unpacked_gemm_at_pays<float>(m, n, batch);
      if (panel) {
        std::vector<float> t(static_cast<std::size_t>(m * batch));
        auto run = [&](auto w) {
          tapeless::detail::unpacked_gemm_at<decltype(w)::value, float>(m, n, batch, x.data(), batch, g.data(), batch,
                                                                        t.data(), expect.data(), m);
        };
        add ? run(std::true_type{}) : run(std::false_type{});
      } else if (add) {
        expect.noalias() += x.transpose() * g;
      } else {
        expect.noalias() = x.transpose() * g;
      }
      BOOST_TEST(same(dw, expect), "batch " << batch << ", panel " << panel << ", add " << add);
      // reserved without the panel: Eigen's GEMM, whatever the shape
      tapeless::Product<float> q;
      q.reserve(m, n, batch);
      F dq = start, gemm = start;
      q.run(dq, x.transpose(), g, mode);
      if (add)
        gemm.noalias() += x.transpose() * g;
      else
        gemm.noalias() = x.transpose() * g;
      BOOST_TEST(same(dq, gemm), "batch " << batch << " without the panel");
    }
}
