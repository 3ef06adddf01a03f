/// @file
/// @brief `Product<S>`: one matrix product of a program, computed without allocating.
///
/// Eigen's GEMM packs its operands into buffers it allocates on the heap when they exceed
/// EIGEN_STACK_ALLOCATION_LIMIT (a 784x256 layer at batch 64 does). An op that multiplies
/// matrices keeps one `Product` per product in its workspace (the op protocol, core/node.hpp):
/// `reserve()`, called from the op's `reserve` whenever the program sizes its storage, allocates
/// the buffers for the product's shape once; `assign()`/`add()` then run Eigen's GEMM kernel with
/// them (detail/eigen_compat.hpp). Most GEMM shapes of a network never reach it, though: x w and
/// g w^T (a column-major left operand of at least one packet of rows) run the unpacked kernel
/// (detail/unpacked_gemm.hpp: no packing, a register block sized for the architecture; 0.4-0.7x
/// Eigen's GEMM time on AVX-512 from 32x16x16 to 128x784x256; with 16 vector registers, for
/// weights up to 64x64 only: `unpacked_gemm_pays`), and so does x^T g for a fixed
/// weight of at most 64 coefficients (dot products down the batch) or, in a Product reserved by
/// `reserve_transposed`, a larger one (through a transposed copy of x: `unpacked_gemm_at`);
/// Eigen's GEMM keeps the other weight gradients and batches shorter than a packet. Of the
/// products Eigen computes without GEMM, small ones of fixed sizes take Eigen's unrolled
/// coefficient-wise product (one row of dot products gathered into one vector before it is
/// stored, `row_at_once`), small ones known at run time a plain loop
/// (`detail::small_gemm`), and one row (a batch of one, fixed or at run time) times a matrix Eigen
/// would multiply by GEMV the GEMV kernel, called directly as Eigen's product calls it, with the
/// same bits (a row times a column-major weight, a dot product per output, a packet of outputs
/// at a time where that pays: `detail::dot_rows_add`, whose reductions share shuffles and whose
/// outputs leave as one packet, with Eigen's pairings); a run-time batch of one row times a
/// weight of fixed size takes the path a fixed batch of one would (`fixed_row`), for the same
/// bits and time. A depth-1 product (dW = x^T g at batch 1) is one pass over the destination
/// (`detail::outer_gemm`; Eigen's outer product for operands without direct access).
/// Where the operands' sizes are known at compile time they choose the path there, and the
/// paths they rule out are not instantiated: a fixed GEMM shape the unpacked kernel pays for
/// always takes it, another fixed GEMM shape always takes the GEMM kernel
/// (with Eigen's stack buffers if this Product was not reserved for it, as Eigen's own
/// fixed-size product does), never Eigen's generic product. So does the write mode when the
/// caller passes it as a `detail::write_constant<W>` (the engine does, wherever the plan
/// knows it). Each path ruled out is an Eigen product expression per call site: this took a test
/// file holding 14 Trainers from 57 to 47 s and 2.8 to 2.2 GB of g++. And where all three
/// operands have direct access (every product the engine makes), no Eigen product expression
/// is instantiated at all, only kernels compiled once per scalar: the unpacked kernel, GEMV,
/// Eigen's GEMM kernel, an outer-product loop for depth 1, and a plain loop for the shapes Eigen
/// multiplies coefficient-wise (a 4-layer TU: 536 to 413 MB of g++).
///
///     Product<float> p;
///     p.reserve(64, 128, 784);   // rows, cols, depth of y = x w
///     p.assign(y, x, w);         // y = x w (x, w: plain matrices, maps or their transposes)
///     p.add(dw, x.transpose(), g);  // dw += x^T g (another Product, reserved for that shape)
#pragma once

#include "tapeless/core/shape.hpp"
#include "tapeless/detail/eigen_compat.hpp"
#include "tapeless/detail/one_row.hpp"
#include "tapeless/detail/owned.hpp"
#include "tapeless/detail/unpacked_gemm.hpp"

#include <bit>
#include <cstring>
#include <type_traits>
#include <utility>

namespace tapeless {

/// How a result is written into its destination: replacing it, or added to it.
enum class Write { assign, add };

namespace detail {
/// A write mode known at compile time.
template <Write W>
using write_constant = std::integral_constant<Write, W>;

/// Calls f(write_constant<W>{}) for `mode`: a `Write` known at run time (both modes are
/// instantiated), or a `write_constant` (only that one).
template <class Mode, class F>
void with_write(Mode mode, F&& f) {
  if constexpr (std::is_same_v<Mode, Write>) {
    if (mode == Write::add)
      f(write_constant<Write::add>{});
    else
      f(write_constant<Write::assign>{});
  } else {
    f(mode);
  }
}
}  // namespace detail

template <class S>
class Product {
  using buffers_type = detail::eigen_compat::gemm_buffers<S>;

 public:
  Product() = default;
  Product(const Product& other) : panel_(other.panel_.size()) {  // own buffers
    reserve(other.rows_, other.cols_, other.depth_);
  }
  Product& operator=(const Product& other) {
    if (this != &other) {
      reserve(other.rows_, other.cols_, other.depth_);
      panel_.resize(other.panel_.size());
    }
    return *this;
  }
  Product(Product&&) noexcept = default;
  Product& operator=(Product&&) noexcept = default;

  /// True when Eigen uses its GEMM kernel (and so packing buffers) for a rows x depth times
  /// depth x cols product.
  static constexpr bool uses_gemm(Index rows, Index cols, Index depth) noexcept {
    return detail::eigen_compat::uses_gemm(rows, cols, depth);
  }

  /// Allocates the packing buffers for this shape (once; again only if the shape changes).
  void reserve(Index rows, Index cols, Index depth) {
    if (!uses_gemm(rows, cols, depth) || reserved_for(rows, cols, depth)) return;
    buffers_ = detail::make_owned<buffers_type>(rows, cols, depth, 1, true);
    buffers_->allocateAll();
    rows_ = rows;
    cols_ = cols;
    depth_ = depth;
  }
  /// `reserve`, for a product dst = a^T b whose a is column-major (a weight gradient x^T g, a
  /// batch of `depth` rows): also allocates the panel a transposed copy of a goes to, where
  /// `detail::unpacked_gemm_at` is the faster way to the shape.
  void reserve_transposed(Index rows, Index cols, Index depth) {
    reserve(rows, cols, depth);
    if (panel_pays(rows, cols, depth) && panel_.size() < rows * depth) panel_.resize(rows * depth);
  }

  /// dst = a b.
  template <class Dst, class A, class B>
  void assign(Dst& dst, const A& a, const B& b) {
    run_as<Write::assign>(dst, a, b);
  }
  /// dst += a b.
  template <class Dst, class A, class B>
  void add(Dst& dst, const A& a, const B& b) {
    run_as<Write::add>(dst, a, b);
  }
  /// `assign` or `add`, as `write` says: a `Write` known at run time, or a
  /// `detail::write_constant<W>` (then only that mode is instantiated).
  template <class Dst, class A, class B, class Mode>
  void run(Dst& dst, const A& a, const B& b, Mode write) {
    detail::with_write(write, [&](auto w) { run_as<decltype(w)::value>(dst, a, b); });
  }

 private:
  // What the operands' compile-time sizes decide: a path that cannot be taken is not
  // instantiated (each one is an Eigen product expression, or two).

  template <class Dst, class A, class B>
  struct shapes {
    static constexpr Index rows = Dst::RowsAtCompileTime, cols = Dst::ColsAtCompileTime, depth = A::ColsAtCompileTime;
    static constexpr bool fixed = rows != Eigen::Dynamic && cols != Eigen::Dynamic && depth != Eigen::Dynamic;
    static constexpr bool maybe_depth_1 = depth == Eigen::Dynamic || depth == 1;
    /// Eigen's GEMM, whatever the run-time sizes (then Eigen's own `a * b` is never needed).
    static constexpr bool gemm = fixed && detail::eigen_compat::uses_gemm(rows, cols, depth);
    static constexpr bool maybe_gemm = !fixed || gemm;
  };

  template <Write W, class Dst, class A, class B>
  void run_as(Dst& dst, const A& a, const B& b) {
    using shape = shapes<Dst, A, B>;
    const Index rows = dst.rows(), cols = dst.cols(), depth = a.cols();
    if constexpr (shape::maybe_depth_1) {
      if (depth == 1) {
        if constexpr (kernels_only<Dst, A, B>) {
          // an outer product (dw = x^T g at batch 1): a column times a row, no Eigen expression
          namespace ec = detail::eigen_compat;
          detail::outer_gemm<W == Write::add, S>(rows, cols, ec::gemm_operand<A>::plain(a).data(),
                                                 ec::strides_of(a).rows, ec::gemm_operand<B>::plain(b).data(),
                                                 ec::strides_of(b).cols, dst.data(), dst.outerStride());
        } else if constexpr (W == Write::add)
          dst.noalias() += a.col(0) * b.row(0);
        else
          dst.noalias() = a.col(0) * b.row(0);
        return;
      }
    }
    if constexpr (fixed_row_gemv<Dst, A, B>) {
      // A fixed row that Eigen multiplies by GEMV: its kernel, called as Eigen's product calls
      // it (one instance per scalar and order, not Eigen's product machinery per shape).
      gemv_row<W>(dst, a, b);
      return;
    } else if constexpr (shape::depth != 1) {
      if constexpr (Dst::RowsAtCompileTime == Eigen::Dynamic && detail::column_major_direct<Dst> &&
                    detail::column_major_direct<A> && direct<B>) {
        if constexpr (B::RowsAtCompileTime != Eigen::Dynamic && B::ColsAtCompileTime != Eigen::Dynamic) {
          if (rows == 1 && one_row(dst, a, b)) {  // a run-time batch of one, a fixed weight
            fixed_row<W>(dst, a, b);
            return;
          }
        } else if (rows == 1 && depth + 1 + cols >= EIGEN_GEMM_TO_COEFFBASED_THRESHOLD && one_row(dst, a, b)) {
          gemv_row<W>(dst, a, b);
          return;
        }
      }
      // The unpacked kernel whatever the run-time sizes (then no Eigen product is instantiated).
      constexpr bool unpacked_always = unpacked_nn<Dst, A, B> && shape::gemm &&
                                       detail::unpacked_gemm_pays<S>(shape::rows, shape::cols, shape::depth);
      namespace ec = detail::eigen_compat;
      if constexpr (unpacked_tn<Dst, A, B> && shape::maybe_gemm) {
        // a small weight gradient x^T g: dot products down the batch (detail/unpacked_gemm.hpp)
        const auto& pa = ec::gemm_operand<A>::plain(a);
        detail::unpacked_gemm_tn<W == Write::add, S>(depth, rows, cols, pa.data(), pa.outerStride(), b.data(),
                                                     b.outerStride(), dst.data(), dst.outerStride());
        return;
      }
      if constexpr (panel_tn<Dst, A, B> && shape::maybe_gemm) {
        // a larger weight gradient x^T g, where reserve_transposed made a panel for x^T
        if (rows * depth <= panel_.size() && panel_pays(rows, cols, depth)) {
          const auto& pa = ec::gemm_operand<A>::plain(a);
          detail::unpacked_gemm_at<W == Write::add, S>(rows, cols, depth, pa.data(), pa.outerStride(), b.data(),
                                                       b.outerStride(), panel_.data(), dst.data(), dst.outerStride());
          return;
        }
      }
      if constexpr (unpacked_nn<Dst, A, B>) {
        // x w or g w^T where Eigen would run GEMM and the unpacked kernel is faster (a packet of
        // rows or more; a small weight where registers are few)
        if (unpacked_always || (detail::unpacked_gemm_pays<S>(rows, cols, depth) && ec::uses_gemm(rows, cols, depth))) {
          const ec::operand_strides sb = ec::strides_of(b);
          detail::unpacked_gemm<W == Write::add, S>(rows, cols, depth, a.data(), a.outerStride(),
                                                    ec::gemm_operand<B>::plain(b).data(), sb.rows, sb.cols, dst.data(),
                                                    dst.outerStride());
          return;
        }
      }
      if constexpr (unpacked_always) {
        return;  // (taken above whatever the run-time sizes)
      } else if constexpr (kernels_only<Dst, A, B> && !(shape::fixed && !shape::gemm)) {
        run_kernels<W>(dst, a, b);
      } else {
        run_eigen<W>(dst, a, b);
      }
    }
  }

  /// dst = a b (or +=) by kernels instantiated once per scalar (and storage orders), never Eigen's
  /// product expression for these types: Eigen's GEMM kernel, with this Product's buffers if it
  /// was reserved for the shape (else with its own, as Eigen's product would), or, for shapes
  /// Eigen multiplies coefficient-wise, a plain loop.
  template <Write W, class Dst, class A, class B>
  void run_kernels(Dst& dst, const A& a, const B& b) {
    namespace ec = detail::eigen_compat;
    const Index rows = dst.rows(), cols = dst.cols(), depth = a.cols();
    if (rows == 0 || cols == 0) return;
    if (!ec::uses_gemm(rows, cols, depth)) {
      const ec::operand_strides sa = ec::strides_of(a), sb = ec::strides_of(b);
      detail::small_gemm<W == Write::add, S>(rows, cols, depth, ec::gemm_operand<A>::plain(a).data(), sa.rows, sa.cols,
                                             ec::gemm_operand<B>::plain(b).data(), sb.rows, sb.cols, dst.data(),
                                             dst.outerStride());
      return;
    }
    gemm<W>(dst, a, b);
  }

  /// dst = a b (or +=) by Eigen's GEMM kernel, with this Product's buffers if it was reserved for
  /// the shape, else with its own (on the stack for a fixed size, as Eigen's `a * b` would).
  template <Write W, class Dst, class A, class B>
  void gemm(Dst& dst, const A& a, const B& b) {
    const Index rows = dst.rows(), cols = dst.cols(), depth = a.cols();
    if constexpr (W == Write::assign) dst.setZero();
    if (reserved_for(rows, cols, depth)) {
      detail::eigen_compat::gemm_add<S>(dst, a, b, *buffers_);
    } else {
      buffers_type local(rows, cols, depth, 1, true);
      detail::eigen_compat::gemm_add<S>(dst, a, b, local);
    }
  }
  bool reserved_for(Index rows, Index cols, Index depth) const noexcept {
    return buffers_ && rows == rows_ && cols == cols_ && depth == depth_;
  }

  /// Eigen's GEMM kernel with this Product's buffers, or Eigen's own product.
  template <Write W, class Dst, class A, class B>
  void run_eigen(Dst& dst, const A& a, const B& b) {
    using shape = shapes<Dst, A, B>;
    constexpr bool own_gemm = detail::eigen_compat::owns_gemm_buffers && !Dst::IsRowMajor && shape::maybe_gemm;
    if constexpr (own_gemm) {
      // Eigen's GEMM kernel with the reserved buffers; for a fixed GEMM shape always (with
      // Eigen's own if this Product was not reserved for it).
      if (shape::gemm || reserved_for(dst.rows(), dst.cols(), a.cols())) {
        gemm<W>(dst, a, b);
        return;
      }
    }
    if constexpr (!own_gemm || !shape::gemm) {
      if constexpr (small_row<Dst, A, B>)
        row_at_once<W>(dst, a, b);
      else if constexpr (W == Write::add)
        dst.noalias() += a * b;
      else
        dst.noalias() = a * b;
    }
  }

  /// One fixed row of at most 128 bytes that Eigen computes coefficient by coefficient, each a
  /// dot product of a and a column of b (its product for small fixed sizes: 1x4 times 4x16, 1x16
  /// times 16x3). With a row-major b (g w^T) Eigen's own product works in packets already.
  template <class Dst, class A, class B>
  static constexpr bool small_row = [] {
    if constexpr (Dst::RowsAtCompileTime == 1 && Dst::ColsAtCompileTime != Eigen::Dynamic) {
      constexpr int type = Eigen::internal::product_type<A, B>::value;
      return !B::IsRowMajor && Dst::ColsAtCompileTime * sizeof(S) <= 128 &&
             (type == Eigen::CoeffBasedProductMode || type == Eigen::LazyCoeffBasedProductMode);
    } else {
      return false;
    }
  }();
  /// dst = a b (or +=) for a small_row product, its coefficients gathered into one vector value
  /// and stored at once. Written into dst one by one (through a pointer the compiler must assume
  /// may alias a or b, or into a local row it may keep in memory), each coefficient goes out as
  /// its own scalar store, and the next op's packet load of the row waits for all of them: a
  /// failed store forwarding, a third of a 4-16-16-3 inference at batch 1. Not inlined: inlined
  /// into a large caller, g++ may build the vector in memory after all. Each coefficient is
  /// Eigen's own (its evaluator of the same coefficient-wise product): the same bits.
  template <Write W, class Dst, class A, class B>
  static void row_at_once(Dst& dst, const A& a, const B& b) {
    constexpr unsigned n = Dst::ColsAtCompileTime;
    row_at_once<W>(dst, a, b, std::make_integer_sequence<int, static_cast<int>(std::bit_ceil(n))>{});
  }
  template <Write W, class Dst, class A, class B, int... J>
  [[gnu::noinline]] static void row_at_once(Dst& dst, const A& a, const B& b, std::integer_sequence<int, J...>) {
    constexpr int n = Dst::ColsAtCompileTime, width = sizeof...(J);
    const auto product = a.lazyProduct(b);
    const Eigen::internal::evaluator<std::remove_const_t<decltype(product)>> coefficients(product);
    S values[width];
#if defined(__GNUC__)
    using vector [[gnu::vector_size(width * sizeof(S))]] = S;
    const vector row{(J < n ? coefficients.coeff(0, J) : S(0))...};
    std::memcpy(values, &row, sizeof row);
#else
    ((values[J] = J < n ? coefficients.coeff(0, J) : S(0)), ...);
#endif
    if constexpr (W == Write::add)
      dst += Eigen::Map<const Eigen::Matrix<S, 1, n>>(values);
    else
      dst = Eigen::Map<const Eigen::Matrix<S, 1, n>>(values);
  }

  /// Whether dst and a are each one contiguous row (a run-time batch of one) and b's coefficients
  /// are adjacent down its inner dimension (run() has checked at compile time that all three
  /// have direct access, b maybe transposed). Eigen computes such a product (when not small enough for its
  /// coefficient-wise product) as a GEMV too, but reaches it through a one-row block of each operand
  /// whose stride it does not know, and copies both through a stack buffer: a quarter of a
  /// 4-16-16-3 inference at run-time batch 1. Called on the rows as vectors, the same GEMV kernel
  /// runs on the same operands: the same bits.
  template <class Dst, class A, class B>
  static bool one_row(const Dst& dst, const A& a, const B& b) {
    return detail::one_contiguous_row(dst) && detail::one_contiguous_row(a) &&
           detail::eigen_compat::gemm_operand<B>::plain(b).innerStride() == 1;
  }
  /// dst = a b (or +=) for one contiguous row of a run-time batch and a b of fixed size: computed
  /// as the row of a fixed batch of one is, over the same rows mapped at their fixed width. So
  /// Eigen's own choice for the fixed shapes applies (GEMV, or its unrolled coefficient-wise
  /// product for small ones: 1x4 times 4x16 takes 40% less time than through GEMV), and a batch of
  /// one gets the same bits at run time as in a fixed batch.
  template <Write W, class Dst, class A, class B>
  static void fixed_row(Dst& dst, const A& a, const B& b) {
    Eigen::Map<Eigen::Matrix<S, 1, B::ColsAtCompileTime>> y(dst.data());
    const Eigen::Map<const Eigen::Matrix<S, 1, B::RowsAtCompileTime>> x(a.data());
    if constexpr (fixed_row_gemv<decltype(y), decltype(x), B>)
      gemv_row<W>(y, x, b);
    else if constexpr (small_row<decltype(y), decltype(x), B>)
      row_at_once<W>(y, x, b);
    else if constexpr (W == Write::add)
      y.noalias() += x * b;
    else
      y.noalias() = x * b;
  }
  /// dst = a b (or +=) for one row: dst^T = b^T a^T through Eigen's GEMV kernel. dst and a are
  /// contiguous, b has direct access with unit inner stride.
  template <Write W, class Dst, class A, class B>
  static void gemv_row(Dst& dst, const A& a, const B& b) {
    namespace ec = detail::eigen_compat;
    const auto& pb = ec::gemm_operand<B>::plain(b);
    if constexpr (W == Write::assign) {
      // dst is one contiguous row: zeroed as a row vector of b's width (Eigen's setZero on a matrix of
      // run-time size runs a loop per column)
      constexpr int n =
          Dst::ColsAtCompileTime != Eigen::Dynamic ? int{Dst::ColsAtCompileTime} : int{B::ColsAtCompileTime};
      Eigen::Map<Eigen::Matrix<S, 1, n>>(dst.data(), 1, dst.cols()).setZero();
    }
    constexpr int order = ec::gemm_order<B>() == Eigen::RowMajor ? Eigen::ColMajor : Eigen::RowMajor;  // of b^T
    ec::gemv_add<S, order>(dst.cols(), a.cols(), pb.data(), pb.outerStride(), a.data(), dst.data());
  }
  /// Whether B is a matrix or map with direct access, or its transpose.
  template <class B>
  static constexpr bool direct = requires(const B& b) {
    detail::eigen_compat::gemm_operand<B>::plain(b).data();
    detail::eigen_compat::gemm_operand<B>::plain(b).outerStride();
    detail::eigen_compat::gemm_operand<B>::plain(b).innerStride();
  };
  /// X (a matrix, map or block, maybe transposed) with direct access and unit inner stride.
  template <class X>
  static constexpr bool unit_inner = [] {
    if constexpr (direct<X>) {
      using P = std::remove_cvref_t<decltype(detail::eigen_compat::gemm_operand<X>::plain(std::declval<const X&>()))>;
      return P::InnerStrideAtCompileTime == 1;
    } else {
      return false;
    }
  }();
  /// One row fixed at compile time, times a matrix Eigen multiplies it with by GEMV (its own
  /// choice for these sizes: `product_type`), every operand with unit inner stride.
  template <class Dst, class A, class B>
  static constexpr bool fixed_row_gemv = [] {
    if constexpr (Dst::RowsAtCompileTime == 1 && A::RowsAtCompileTime == 1 && unit_inner<B> &&
                  requires(Dst & d, const A& x) {
                    d.data();
                    x.data();
                  }) {
      return Dst::InnerStrideAtCompileTime == 1 && A::InnerStrideAtCompileTime == 1 &&
             static_cast<int>(Eigen::internal::product_type<A, B>::value) == static_cast<int>(Eigen::GemvProduct);
    } else {
      return false;
    }
  }();

  /// A column-major matrix or map whose coefficients down a column are adjacent.
  template <class M>
  static constexpr bool unit_columns = detail::column_major_direct<M>&& M::InnerStrideAtCompileTime == 1;
  /// Every operand a matrix, map or block with direct access and unit inner stride (a and b maybe
  /// transposed), dst column-major, a scalar the kernels vectorise: run_kernels can compute it
  /// (not under TAPELESS_PLAIN_EIGEN).
  template <class Dst, class A, class B>
  static constexpr bool kernels_only = detail::eigen_compat::owns_gemm_buffers&& detail::unpacked_scalar<S>&&
      unit_columns<Dst>&& unit_inner<A>&& unit_inner<B>;
  /// dst = a b by detail::unpacked_gemm: kernels_only with a plain column-major a.
  template <class Dst, class A, class B>
  static constexpr bool unpacked_nn = kernels_only<Dst, A, B>&& unit_columns<A>;
  /// dst = a^T b, a weight gradient x^T g: kernels_only, with a the transpose of a plain
  /// column-major matrix and b plain column-major.
  template <class Dst, class A, class B>
  static constexpr bool transposed_left = [] {
    if constexpr (kernels_only<Dst, A, B> && detail::eigen_compat::gemm_operand<A>::transposed && unit_columns<B>) {
      using P = std::remove_cvref_t<decltype(detail::eigen_compat::gemm_operand<A>::plain(std::declval<const A&>()))>;
      return unit_columns<P>;
    } else {
      return false;
    }
  }();
  /// dst = a^T b by detail::unpacked_gemm_tn: transposed_left with a fixed dst of at most 64
  /// coefficients (where the kernel measured faster than Eigen's GEMM).
  template <class Dst, class A, class B>
  static constexpr bool unpacked_tn =
      transposed_left<Dst, A, B>&& Dst::SizeAtCompileTime != Eigen::Dynamic&& Dst::SizeAtCompileTime <= 64;

  /// Whether a weight gradient of this shape goes through the panel: a GEMM shape (Eigen would
  /// pack it) for which detail::unpacked_gemm_at measured faster.
  static constexpr bool panel_pays(Index rows, Index cols, Index depth) noexcept {
    return uses_gemm(rows, cols, depth) && detail::unpacked_gemm_at_pays<S>(rows, cols, depth);
  }
  /// dst = a^T b by detail::unpacked_gemm_at, given a panel: the other transposed_left products.
  template <class Dst, class A, class B>
  static constexpr bool panel_tn = transposed_left<Dst, A, B> && !unpacked_tn<Dst, A, B>;

  detail::owned<buffers_type> buffers_;
  Eigen::Matrix<S, Eigen::Dynamic, 1> panel_;  // x^T for panel_tn products (reserve_transposed)
  Index rows_ = -1, cols_ = -1, depth_ = -1;
};

}  // namespace tapeless
