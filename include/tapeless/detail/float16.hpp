/// @file
/// @brief IEEE binary16 (F16) and bfloat16 (BF16) bit patterns to float, with no Eigen internal.
///
/// Both are exact: every binary16 and bfloat16 value is a float. bfloat16 is the upper half of a
/// float's bits. binary16 has 1 sign bit, 5 exponent bits (bias 15) and 10 fraction bits;
/// subnormals (exponent 0) are fraction * 2^-24, exponent 31 is infinity or NaN.
#pragma once

#include <bit>
#include <cstdint>

namespace tapeless::detail {

inline float bfloat16_bits_to_float(std::uint16_t bits) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

inline float half_bits_to_float(std::uint16_t bits) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1fu;
  const std::uint32_t fraction = bits & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: fraction * 2^-24, exact in float
    const float magnitude = static_cast<float>(fraction) * 0x1p-24f;
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 0x1f)  // infinity (fraction 0) or NaN (payload kept)
    return std::bit_cast<float>(sign | 0x7f800000u | (fraction << 13));
  return std::bit_cast<float>(sign | ((exponent + 127 - 15) << 23) | (fraction << 13));
}

}  // namespace tapeless::detail
