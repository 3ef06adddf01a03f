/// @file
/// @brief IEEE binary16 (F16) and bfloat16 (BF16) bit patterns to and from float, with no Eigen
/// internal, and the loops mixed precision runs over activations (network/precision.hpp).
///
/// To float, both are exact: every binary16 and bfloat16 value is a float. bfloat16 is the upper
/// half of a float's bits. binary16 has 1 sign bit, 5 exponent bits (bias 15) and 10 fraction
/// bits; subnormals (exponent 0) are fraction * 2^-24, exponent 31 is infinity or NaN.
///
/// From float, both round to nearest, ties to even, as `Eigen::bfloat16(f)` and `Eigen::half(f)`
/// do (tests/detail/float16.cpp compares them on every float exponent): a value beyond the
/// format's largest finite one rounds to infinity (binary16's is 65504, bfloat16's is near
/// float's own), one below its smallest subnormal to zero, and a NaN stays a NaN (quiet). The
/// array loops are written without branches so that the compiler vectorises them; binary16 uses
/// the F16C conversion instructions where the target has them (-march=native on x86-64).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#if defined(__F16C__)
#include <immintrin.h>
#endif

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

/// bfloat16 bits of `f`, rounded to nearest even; a NaN stays a (quiet) NaN.
inline std::uint16_t float_to_bfloat16_bits(float f) noexcept {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  const std::uint32_t rounded = u + 0x7fffu + ((u >> 16) & 1u);
  const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
  return static_cast<std::uint16_t>((nan ? u | 0x00400000u : rounded) >> 16);
}

/// binary16 bits of `f`, rounded to nearest even (F. Giesen's float_to_half_fast3_rtne): beyond
/// 65520 (halfway past 65504) infinity, below 2^-25 zero; a NaN becomes the quiet NaN 0x7e00.
inline std::uint16_t float_to_half_bits(float f) noexcept {
  constexpr std::uint32_t infinity = 255u << 23;
  constexpr std::uint32_t too_large = (127u + 16u) << 23;  // 2^16: at or past it, infinity
  constexpr std::uint32_t subnormal_magic = ((127u - 15u) + (23u - 10u) + 1u) << 23;
  std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  const std::uint32_t sign = u & 0x80000000u;
  u ^= sign;
  std::uint32_t out = 0;
  if (u >= too_large) {
    out = u > infinity ? 0x7e00u : 0x7c00u;
  } else if (u < (113u << 23)) {  // below 2^-14: a subnormal (or zero), rounded by a float addition
    out =
        std::bit_cast<std::uint32_t>(std::bit_cast<float>(u) + std::bit_cast<float>(subnormal_magic)) - subnormal_magic;
  } else {
    const std::uint32_t odd = (u >> 13) & 1u;
    u += (static_cast<std::uint32_t>(15 - 127) << 23) + 0xfffu + odd;
    out = u >> 13;
  }
  return static_cast<std::uint16_t>(out | (sign >> 16));
}

/// The storage formats of mixed precision, by tag (`Eigen::bfloat16`, `Eigen::half` map to these
/// in network/precision.hpp, so that this header needs no Eigen).
enum class Half { bfloat16, binary16 };

/// Rounds n floats in place to the nearest value of the format: afterwards each converts to it
/// and back exactly.
template <Half H>
void round_to(float* p, std::size_t n) noexcept {
  std::size_t i = 0;
  if constexpr (H == Half::bfloat16) {
    for (; i < n; ++i) {
      const std::uint32_t u = std::bit_cast<std::uint32_t>(p[i]);
      const std::uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
      p[i] = std::bit_cast<float>((u & 0x7fffffffu) > 0x7f800000u ? u | 0x00400000u : rounded);
    }
  } else {
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8) {
      const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(p + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      _mm256_storeu_ps(p + i, _mm256_cvtph_ps(h));
    }
#endif
    for (; i < n; ++i) p[i] = half_bits_to_float(float_to_half_bits(p[i]));
  }
}

/// Stores n floats as the format's bits (values already rounded to it convert exactly).
template <Half H>
void pack(const float* from, std::uint16_t* to, std::size_t n) noexcept {
  std::size_t i = 0;
  if constexpr (H == Half::bfloat16) {
    for (; i < n; ++i) to[i] = float_to_bfloat16_bits(from[i]);
  } else {
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(to + i),
                       _mm256_cvtps_ph(_mm256_loadu_ps(from + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#endif
    for (; i < n; ++i) to[i] = float_to_half_bits(from[i]);
  }
}

/// Reads n values of the format back as floats (exact).
template <Half H>
void unpack(const std::uint16_t* from, float* to, std::size_t n) noexcept {
  std::size_t i = 0;
  if constexpr (H == Half::bfloat16) {
    for (; i < n; ++i) to[i] = bfloat16_bits_to_float(from[i]);
  } else {
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(to + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(from + i))));
#endif
    for (; i < n; ++i) to[i] = half_bits_to_float(from[i]);
  }
}

}  // namespace tapeless::detail
