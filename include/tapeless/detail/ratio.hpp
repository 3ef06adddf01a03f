/// @file
/// @brief `std::ratio` as a compile-time number in a type (a residual branch's scale, an
/// activation's slope): whether a type is one, and its value. No stability promise.
#pragma once

#include <cstdint>
#include <ratio>
#include <string>

namespace tapeless::detail {

/// Whether R is a `std::ratio`.
template <class R>
inline constexpr bool is_ratio_v = false;
template <std::intmax_t N, std::intmax_t D>
inline constexpr bool is_ratio_v<std::ratio<N, D>> = true;

/// A `std::ratio`'s value as a double (0 for anything else: the user's static_assert names it).
template <class R>
inline constexpr double ratio_value = 0;
template <std::intmax_t N, std::intmax_t D>
inline constexpr double ratio_value<std::ratio<N, D>> = static_cast<double>(N) / static_cast<double>(D);

/// A `std::ratio` as text: "1/4", or "2" for a whole number (reduced: std::ratio<2, 8> is "1/4").
template <class R>
std::string ratio_text() {
  using T = typename R::type;
  return T::den == 1 ? std::to_string(T::num) : std::to_string(T::num) + "/" + std::to_string(T::den);
}

}  // namespace tapeless::detail
