/// @file
/// @brief The domain checks every optimizer's options go through, at construction and on change.
///
/// An option outside its domain (a NaN or non-positive rate, a beta outside [0, 1), a
/// non-positive eps, a negative or non-finite weight decay) would turn every weight into NaN on
/// the first step; it is refused with `std::invalid_argument` naming the optimizer, the option,
/// its value and the rule. So is a value that is fine in double but not in the network's scalar
/// type (an lr of 1e40 for a float network is +inf there; an eps of 1e-50 is 0).
#pragma once

#include "tapeless/core/error.hpp"
#include "tapeless/core/shape.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace tapeless::detail {

/// `value` in the fewest significant digits that read back as the same double: 1e+40, -0.001,
/// nan. (std::to_chars does this too, but `<charconv>` costs every translation unit that includes
/// tapeless about 1.5% of `<Eigen/Core>`'s compile time, for an error message.)
inline std::string shortest(double value) {
  char text[32];
  for (int digits = 1;; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (digits == 17 || std::strtod(text, nullptr) == value) return text;
  }
}

/// Throws unless `ok`: "tapeless::<optimizer>: <name> = <value> <rule>".
inline void require_option(bool ok, const char* optimizer, const char* name, double value, const char* rule) {
  if (ok) return;
  throw std::invalid_argument(std::string("tapeless::") + optimizer + ": " + name + " = " + shortest(value) + ' ' +
                              rule);
}

/// A rate: finite and > 0, in double and in S.
template <class S>
void require_rate(const char* optimizer, const char* name, double v) {
  const S s = static_cast<S>(v);
  require_option(std::isfinite(v) && v > 0 && std::isfinite(s) && s > 0, optimizer, name, v,
                 "must be finite and > 0 (in the network's scalar type too)");
}

/// A coefficient: finite and >= 0, in double and in S.
template <class S>
void require_non_negative(const char* optimizer, const char* name, double v) {
  require_option(std::isfinite(v) && v >= 0 && std::isfinite(static_cast<S>(v)), optimizer, name, v,
                 "must be finite and >= 0");
}

/// A decay rate: in [0, 1).
inline void require_unit_interval(const char* optimizer, const char* name, double v) {
  require_option(v >= 0 && v < 1, optimizer, name, v, "must lie in [0, 1)");
}

/// Throws shape_error unless the weights and gradients an update was given are the size of the
/// network the optimizer was made for: "tapeless::<optimizer>::update: ...".
inline void require_update_sizes(const char* optimizer, Index weights, Index gradients, Index size) {
  if (weights == size && gradients == size) return;
  throw shape_error(std::string("tapeless::") + optimizer + "::update: " + std::to_string(weights) + " weights and " +
                    std::to_string(gradients) + " gradients for an optimizer made for a network of " +
                    std::to_string(size) + " parameters");
}

}  // namespace tapeless::detail
