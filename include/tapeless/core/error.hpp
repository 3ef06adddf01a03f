/// @file
/// @brief Errors: one readable diagnostic at compile time, named exceptions at run time.
///
/// A shape rule broken at compile time instantiates `shape_mismatch<Op, Shape...>`: its single
/// static_assert fires, the diagnostic names the operation and every operand shape, and the
/// expression becomes `InvalidExpr`, which every later operation accepts silently, so no cascade
/// of errors follows.
#pragma once

#include "tapeless/core/shape.hpp"

#include <stdexcept>
#include <string>

namespace tapeless {

/// A shape rule broken at run time (a batch dimension that does not match, a file's tensor...).
class shape_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

namespace detail {
template <class...>
inline constexpr bool always_false = false;
}  // namespace detail

/// Instantiated only when an operation's shape rule fails at compile time. The diagnostic shows
/// the operation (`Op`) and the operand shapes (`Shape<rows, cols>`, -1 for a batch dimension).
template <class Op, class... OperandShapes>
struct shape_mismatch {
  static_assert(detail::always_false<Op, OperandShapes...>,
                "tapeless: the operand shapes do not fit this operation; the operation and the "
                "shapes are the template arguments of shape_mismatch<operation, Shape<rows, cols>...>");
};

/// Instantiated only when the operands an operation differentiates through have different scalar
/// types (a float and a double tensor, say): the diagnostic shows the operation, the scalar type
/// of its first such operand and the first that differs. Convert one side explicitly.
template <class Op, class Expected, class Found>
struct scalar_type_mismatch {
  static_assert(detail::always_false<Op, Expected, Found>,
                "tapeless: the operands of this operation have different scalar types; the operation and "
                "both types are the template arguments of scalar_type_mismatch<operation, expected, found>");
};

/// The result of an operation whose compile-time check failed. Every operation on it yields
/// it again without a new diagnostic.
struct InvalidExpr {};

}  // namespace tapeless
