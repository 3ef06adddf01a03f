/// @file
/// @brief Leaves of an expression: variables, inputs and constants.
///
/// - `Var<T>` refers to a tensor that gradients can be taken with respect to. A tensor used
///   directly in an expression (`x * y`) becomes a `Var`.
/// - `Input<T>` refers to a tensor that is data: no gradient flows into it (`input(x)`).
/// - `Constant<S, R, C>` holds its value (`2.0 * x`, or a temporary tensor) by value.
///
/// Variables and inputs are held by reference (a pointer), never copied, so nesting expressions
/// in `auto` is safe as long as the tensors outlive them. Two leaves are the same node when they
/// refer to the same tensor (or hold equal constants): identity is never decided by type alone.
#pragma once

#include "tapeless/core/expression.hpp"
#include "tapeless/core/tensor.hpp"

#include <type_traits>
#include <utility>

namespace tapeless {

enum class LeafKind { variable, input, constant, shared };  // shared: core/shared.hpp

/// A differentiable leaf: refers to a tensor.
template <class T>
struct Var {
  const T* tensor;
};

/// A non-differentiable leaf: refers to a tensor holding data.
template <class T>
struct Input {
  const T* tensor;
};

/// A leaf holding its value.
template <class S, int R, int C>
struct Constant {
  storage_t<S, R, C> value;
};

namespace detail {
/// Traits shared by the two leaves that refer to a tensor (`Var`, `Input`).
template <class Leaf, LeafKind Kind, class S, int R, int C>
struct tensor_leaf_traits {
  using scalar = S;
  static constexpr Dims dims{R, C};
  static constexpr bool is_leaf = true;
  static constexpr LeafKind kind = Kind;
  static const auto& value(const Leaf& v) noexcept { return v.tensor->value(); }
  /// The shape of the value the tensor holds (which its raw Eigen value() could have changed).
  static Dims runtime_dims(const Leaf& v) noexcept { return {v.tensor->value().rows(), v.tensor->value().cols()}; }
  static bool same(const Leaf& a, const Leaf& b) noexcept { return a.tensor == b.tensor; }
};
}  // namespace detail

template <TensorLike T>
struct expr_traits<Var<T>> : detail::tensor_leaf_traits<Var<T>, LeafKind::variable, typename T::scalar_type,
                                                        T::rows_at_compile_time, T::cols_at_compile_time> {};

template <TensorLike T>
struct expr_traits<Input<T>> : detail::tensor_leaf_traits<Input<T>, LeafKind::input, typename T::scalar_type,
                                                          T::rows_at_compile_time, T::cols_at_compile_time> {};

template <class S, int R, int C>
struct expr_traits<Constant<S, R, C>> {
  using scalar = S;
  static constexpr Dims dims{R, C};
  static constexpr bool is_leaf = true;
  static constexpr LeafKind kind = LeafKind::constant;
  static const auto& value(const Constant<S, R, C>& c) noexcept { return c.value; }
  static Dims runtime_dims(const Constant<S, R, C>& c) noexcept { return {c.value.rows(), c.value.cols()}; }
  static bool same(const Constant<S, R, C>& a, const Constant<S, R, C>& b) {
    return a.value.rows() == b.value.rows() && a.value == b.value;
  }
};

/// Marks a tensor as a variable (what a bare tensor in an expression is anyway).
template <TensorLike T>
Var<T> var(const T& t) noexcept {
  return {&t};
}
template <TensorLike T>
void var(const T&&) = delete;  // a temporary would dangle

/// Marks a tensor as data: no gradient is taken through it.
template <TensorLike T>
Input<T> input(const T& t) noexcept {
  return {&t};
}
template <TensorLike T>
void input(const T&&) = delete;  // a temporary would dangle

/// A constant expression holding `t`'s value.
template <class S, int R, int C>
Constant<S, R, C> constant(const Tensor<S, R, C>& t) {
  return {t.value()};
}

/// A 1x1 constant.
template <class S>
requires std::is_arithmetic_v<S> Constant<S, 1, 1> constant(S s) { return {storage_t<S, 1, 1>::Constant(1, 1, s)}; }

namespace detail {
template <class A>
struct as_expr {
  using type = std::remove_cvref_t<A>;
};
template <class A>
requires is_tensor_v<A> && std::is_lvalue_reference_v<A>
struct as_expr<A> {
  using type = Var<std::remove_cvref_t<A>>;
};
template <class A>
requires is_tensor_v<A> &&(!std::is_lvalue_reference_v<A>)struct as_expr<A> {
  using T = std::remove_cvref_t<A>;
  using type = Constant<typename T::scalar_type, T::rows_at_compile_time, T::cols_at_compile_time>;
};
template <class A>
requires std::is_arithmetic_v<std::remove_cvref_t<A>>
struct as_expr<A> {
  using type = Constant<std::remove_cvref_t<A>, 1, 1>;
};
}  // namespace detail

/// The expression type an operand becomes: expressions stay as they are, a tensor lvalue becomes
/// a `Var`, a tensor rvalue or a number a `Constant` (held by value, so nothing dangles).
template <class A>
using as_expr_t = typename detail::as_expr<A>::type;

template <class A>
as_expr_t<A&&> as_expr(A&& a) {
  using R = as_expr_t<A&&>;
  if constexpr (is_tensor_v<A> && std::is_lvalue_reference_v<A&&>)
    return R{&a};
  else if constexpr (is_tensor_v<A>)
    return R{a.value()};
  else if constexpr (std::is_arithmetic_v<std::remove_cvref_t<A>>)
    return constant(a);
  else
    return std::forward<A>(a);
}

/// Anything an operation accepts: an expression, a tensor or a number.
template <class A>
concept Operand = Expression<A> || is_tensor_v<A> || std::is_arithmetic_v<std::remove_cvref_t<A>>;

/// An operand that is not a plain number.
template <class A>
concept ExprLike = Expression<A> || is_tensor_v<A>;

template <class A>
using operand_scalar_t = scalar_t<as_expr_t<A>>;

/// A number operand converted to the scalar type of the other operand (`2.0 * x` for a float
/// `x` gives a float constant); every other operand forwarded.
template <class Other, class A>
decltype(auto) lift(A&& a) {
  if constexpr (std::is_arithmetic_v<std::remove_cvref_t<A>>)
    return constant(static_cast<operand_scalar_t<Other>>(a));
  else
    return std::forward<A>(a);
}

}  // namespace tapeless
