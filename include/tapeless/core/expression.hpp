/// @file
/// @brief What an expression is: the traits every expression type has, and the `Expression` concept.
///
/// An expression is a leaf (`Var`, `Input`, `Constant`) or a `Node<Op, Args...>`. Its compile-time
/// facts live in `expr_traits<E>`, never in the node itself:
/// - `scalar`: the scalar type;
/// - `dims`: the compile-time shape (`rows` may be `tapeless::dynamic`);
/// - `is_leaf`.
#pragma once

#include "tapeless/core/error.hpp"
#include "tapeless/core/shape.hpp"
#include "tapeless/core/storage.hpp"

#include <type_traits>

namespace tapeless {

/// Specialised for every expression type. The primary template is empty: not an expression.
template <class E>
struct expr_traits {};

/// A type with expression traits.
template <class E>
concept Expression = requires {
  typename expr_traits<std::remove_cvref_t<E>>::scalar;
};

template <class E>
using scalar_t = typename expr_traits<std::remove_cvref_t<E>>::scalar;

/// Compile-time shape of an expression.
template <class E>
inline constexpr Dims dims_v = expr_traits<std::remove_cvref_t<E>>::dims;

/// The shape of an expression as a type, for diagnostics.
template <class E>
using shape_of_t = Shape<static_cast<int>(dims_v<E>.rows), static_cast<int>(dims_v<E>.cols)>;

/// Storage type of an expression's value.
template <class E>
using value_storage_t = storage_t<scalar_t<E>, static_cast<int>(dims_v<E>.rows), static_cast<int>(dims_v<E>.cols)>;

template <class E>
inline constexpr bool is_leaf_v = expr_traits<std::remove_cvref_t<E>>::is_leaf;

template <class E>
inline constexpr bool is_invalid_v = std::is_same_v<std::remove_cvref_t<E>, InvalidExpr>;

/// InvalidExpr is an expression so that operations accept it (and yield it again, silently).
template <>
struct expr_traits<InvalidExpr> {
  using scalar = double;
  static constexpr Dims dims{1, 1};
  static constexpr bool is_leaf = true;
};

}  // namespace tapeless
