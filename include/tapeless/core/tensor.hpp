/// @file
/// @brief `Tensor<S, R, C>`: a value that expressions refer to (a parameter, an input, a target).
///
/// A tensor owns its storage; expressions built from it hold it by reference, so a tensor must
/// outlive every expression and program made from it, and a change to its value is seen by the
/// next evaluation. The row count may be `tapeless::dynamic` (a batch dimension set at run time).
#pragma once

#include "tapeless/core/error.hpp"
#include "tapeless/core/shape.hpp"
#include "tapeless/core/storage.hpp"

#include <Eigen/Core>

#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>

namespace tapeless {

namespace detail {
/// `dst = m` for the storage of an R x C tensor (R `dynamic`: any row count), shared by Tensor and
/// TensorRef: a shape mismatch known at compile time does not compile (one diagnostic), one known
/// only at run time throws `shape_error` naming both shapes (`who`: the class assigned to) and
/// leaves `dst` unchanged.
template <int R, int C, class Dst, class Derived>
void assign_checked(Dst& dst, const Eigen::MatrixBase<Derived>& m, const char* who) {
  constexpr bool cols_fit = Derived::ColsAtCompileTime == Eigen::Dynamic || Derived::ColsAtCompileTime == C;
  constexpr bool rows_fit =
      R == dynamic || Derived::RowsAtCompileTime == Eigen::Dynamic || Derived::RowsAtCompileTime == R;
  static_assert(cols_fit, "tapeless: the matrix assigned to a tensor has another column count than the tensor");
  static_assert(rows_fit, "tapeless: the matrix assigned to a tensor has another row count than the tensor");
  if constexpr (cols_fit && rows_fit) {  // else: diagnosed, and Eigen's own assertion is not reached
    if (m.cols() != C || (R != dynamic && m.rows() != R))
      throw shape_error(std::string(who) + ": cannot assign a " + to_string(Dims{m.rows(), m.cols()}) +
                        " matrix to a " + to_string(Dims{R, C}) + " tensor");
    dst = m.template cast<typename Dst::Scalar>();
  }
}
}  // namespace detail

template <class S, int R, int C>
class Tensor {
  static_assert(std::is_arithmetic_v<S>, "tapeless::Tensor: the scalar type must be arithmetic");
  static_assert(C != dynamic && C > 0, "tapeless::Tensor: the column count must be a positive compile-time constant");
  static_assert(R == dynamic || R > 0, "tapeless::Tensor: the row count must be positive or tapeless::dynamic");

 public:
  using scalar_type = S;
  using storage_type = storage_t<S, R, C>;
  static constexpr int rows_at_compile_time = R;
  static constexpr int cols_at_compile_time = C;

  /// Zero-filled; a dynamic-row tensor starts with 0 rows.
  Tensor() : value_(storage_type::Zero(R == dynamic ? 0 : R, C)) {}

  /// Zero-filled with `rows` rows (dynamic-row tensors only).
  explicit Tensor(Index rows) requires(R == dynamic) : value_(storage_type::Zero(rows, C)) {}

  /// A 1x1 tensor holding `s`.
  Tensor(S s)  // NOLINT(google-explicit-constructor): a scalar is a 1x1 tensor
      requires(R == 1 && C == 1)
      : value_(storage_type::Constant(1, 1, s)) {}

  /// Row-major nested initializer: `Tensor<double, 2, 2> t{{1, 2}, {3, 4}}`.
  Tensor(std::initializer_list<std::initializer_list<S>> rows) : Tensor() {
    if constexpr (R == dynamic) value_.resize(static_cast<Index>(rows.size()), C);
    if (static_cast<Index>(rows.size()) != value_.rows())
      throw shape_error("tapeless::Tensor: initializer has " + std::to_string(rows.size()) + " rows, the tensor " +
                        to_string(Dims{value_.rows(), C}));
    Index i = 0;
    for (auto row : rows) {
      if (static_cast<Index>(row.size()) != C)
        throw shape_error("tapeless::Tensor: initializer row " + std::to_string(i) + " has " +
                          std::to_string(row.size()) + " values, the tensor has " + std::to_string(C) + " columns");
      Index j = 0;
      for (S v : row) value_(i, j++) = v;
      ++i;
    }
  }

  /// From any Eigen matrix expression of the same shape; throws `shape_error` otherwise.
  template <class Derived>
  explicit Tensor(const Eigen::MatrixBase<Derived>& m) : Tensor() {
    *this = m;
  }

  /// Assigns an Eigen matrix expression; throws `shape_error` (tensor unchanged) on a mismatch.
  /// A dynamic-row tensor takes the row count of `m`.
  template <class Derived>
  Tensor& operator=(const Eigen::MatrixBase<Derived>& m) {
    detail::assign_checked<R, C>(value_, m, "tapeless::Tensor");
    return *this;
  }

  /// The stored Eigen matrix.
  storage_type& value() noexcept { return value_; }
  const storage_type& value() const noexcept { return value_; }

  Index rows() const noexcept { return value_.rows(); }
  static constexpr Index cols() noexcept { return C; }
  Dims dims() const noexcept { return {value_.rows(), C}; }

  /// Sets the batch size of a dynamic-row tensor (allocates only when it changes; contents are
  /// unspecified afterwards).
  void resize(Index rows) requires(R == dynamic) {
    if (rows != value_.rows()) value_.resize(rows, C);
  }

  S& operator()(Index i, Index j) { return value_(i, j); }
  S operator()(Index i, Index j) const { return value_(i, j); }

  /// The value of a 1x1 tensor.
  S scalar() const requires(R == 1 && C == 1) { return value_(0, 0); }

 private:
  storage_type value_;
};

/// A 1x1 tensor: a scalar variable.
template <class S>
using Scalar = Tensor<S, 1, 1>;

/// A fixed-shape view of a tensor living in memory someone else owns (a model's contiguous
/// parameter buffer), with the memory its gradient is written to. Expressions treat it exactly
/// as a `Tensor`; a `Program` writes the gradient straight into `gradient()`.
template <class S, int R, int C>
class TensorRef {
  static_assert(R != dynamic && R > 0 && C > 0, "tapeless::TensorRef: the shape must be fixed and positive");

 public:
  using scalar_type = S;
  using matrix_type = parameter_storage_t<S, R, C>;
  using storage_type = Eigen::Map<matrix_type>;
  static constexpr int rows_at_compile_time = R;
  static constexpr int cols_at_compile_time = C;
  static constexpr Index size = Index{R} * C;

  TensorRef(S* value, S* gradient) noexcept : value_(value, R, C), gradient_(gradient, R, C) {}
  TensorRef(const TensorRef&) = delete;  // expressions refer to this object: it stays put
  TensorRef& operator=(const TensorRef&) = delete;

  /// Assigns an Eigen matrix expression to the parameter; throws `shape_error` (parameter
  /// unchanged) when its shape is not R x C. `value()` is the unchecked map.
  template <class Derived>
  TensorRef& operator=(const Eigen::MatrixBase<Derived>& m) {
    detail::assign_checked<R, C>(value_, m, "tapeless::TensorRef");
    return *this;
  }

  storage_type& value() noexcept { return value_; }
  const storage_type& value() const noexcept { return value_; }
  storage_type& gradient() noexcept { return gradient_; }
  const storage_type& gradient() const noexcept { return gradient_; }
  static constexpr Index rows() noexcept { return R; }
  static constexpr Index cols() noexcept { return C; }
  static constexpr Dims dims() noexcept { return {R, C}; }

 private:
  storage_type value_;
  storage_type gradient_;
};

/// What a leaf may refer to: `Tensor`, `TensorRef`, or any type with these members.
template <class T>
concept TensorLike = requires(const std::remove_cvref_t<T>& t) {
  typename std::remove_cvref_t<T>::scalar_type;
  std::remove_cvref_t<T>::rows_at_compile_time;
  std::remove_cvref_t<T>::cols_at_compile_time;
  t.value();
  t.dims();
};

/// True for tensor-like types (any cv-ref).
template <class T>
inline constexpr bool is_tensor_v = TensorLike<T>;

/// The storage a `Program` writes a gradient with respect to T into: T's own gradient memory
/// when it has some (`TensorRef`), a matrix of T's shape otherwise.
template <class T>
struct gradient_storage {
  using type = storage_t<typename T::scalar_type, T::rows_at_compile_time, T::cols_at_compile_time>;
  static type make(const T& t) { return type::Zero(t.dims().rows, t.dims().cols); }
};
template <class T>
requires requires(T& t) { t.gradient(); }
struct gradient_storage<T> {
  using type = std::remove_cvref_t<decltype(std::declval<T&>().gradient())>;
  static type make(const T& t) { return t.gradient(); }  // a Map: same memory
};
template <class T>
using gradient_storage_t = typename gradient_storage<T>::type;

}  // namespace tapeless
