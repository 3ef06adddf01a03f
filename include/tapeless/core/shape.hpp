/// @file
/// @brief Compile-time and run-time shapes of expressions.
///
/// Every expression has a shape known at compile time (`rows_v`, `cols_v`). The row count may be
/// `tapeless::dynamic` (a run-time batch dimension); the column count is always fixed.
#pragma once

#include <Eigen/Core>

#include <string>

namespace tapeless {

using Index = Eigen::Index;

/// A dimension known only at run time (the batch dimension). Equal to `Eigen::Dynamic`.
inline constexpr int dynamic = Eigen::Dynamic;

/// A shape as a value: at compile time it may hold `dynamic`, at run time it never does.
struct Dims {
  Index rows;
  Index cols;
  friend constexpr bool operator==(Dims, Dims) = default;
};

/// True when two dimensions may be equal: equal, or one of them not known yet.
constexpr bool dims_fit(Index a, Index b) { return a == b || a == dynamic || b == dynamic; }

/// True when two shapes may be equal.
constexpr bool dims_fit(Dims a, Dims b) { return dims_fit(a.rows, b.rows) && dims_fit(a.cols, b.cols); }

/// True for a 1x1 shape.
constexpr bool is_scalar_dims(Dims d) { return d.rows == 1 && d.cols == 1; }

/// A shape as a type, so that it appears in diagnostics: `Shape<3, 4>`.
template <int Rows, int Cols>
struct Shape {
  static constexpr int rows = Rows;
  static constexpr int cols = Cols;
};

/// "3x4", or "?x4" for a dynamic row count.
inline std::string to_string(Dims d) {
  auto one = [](Index n) { return n == dynamic ? std::string("?") : std::to_string(n); };
  return one(d.rows) + "x" + one(d.cols);
}

}  // namespace tapeless
