// The F16 and BF16 conversions (the safetensors reader and writer, mixed precision) agree with Eigen's own half and
// bfloat16 types on every one of the 65536 bit patterns (NaNs: both NaN).
#define BOOST_TEST_MODULE detail_float16
#include "tapeless/detail/float16.hpp"

#include <Eigen/Core>
#include <boost/test/unit_test.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace {
bool same(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

/// How many of the 65536 bit patterns `convert` maps to another float than Eigen's type E.
template <class E, class F>
int mismatches_with_eigen(F convert) {
  int n = 0;
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    if (!same(convert(bits), static_cast<float>(Eigen::numext::bit_cast<E>(bits)))) ++n;
  }
  return n;
}
}  // namespace

BOOST_AUTO_TEST_CASE(half_matches_eigen_on_every_bit_pattern) {
  BOOST_TEST(mismatches_with_eigen<Eigen::half>(tapeless::detail::half_bits_to_float) == 0);
  BOOST_TEST(tapeless::detail::half_bits_to_float(0x3c00) == 1.0f);
  BOOST_TEST(tapeless::detail::half_bits_to_float(0x0001) == 0x1p-24f);  // smallest subnormal
  BOOST_TEST(tapeless::detail::half_bits_to_float(0x7bff) == 65504.0f);  // largest finite
  BOOST_TEST(std::isinf(tapeless::detail::half_bits_to_float(0xfc00)));
}

BOOST_AUTO_TEST_CASE(bfloat16_matches_eigen_on_every_bit_pattern) {
  BOOST_TEST(mismatches_with_eigen<Eigen::bfloat16>(tapeless::detail::bfloat16_bits_to_float) == 0);
  BOOST_TEST(tapeless::detail::bfloat16_bits_to_float(0x3f80) == 1.0f);
}

namespace {
/// Floats spread over every exponent: a stride through all 2^32 bit patterns, plus, for each
/// exponent, the ties and near-ties of both formats' rounding (the low 13 and 16 bits at and
/// around half a unit).
std::vector<float> probe_floats() {
  std::vector<float> v;
  for (std::uint64_t b = 0; b < (std::uint64_t{1} << 32); b += 65521)
    v.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(b)));
  for (std::uint32_t sign : {0u, 0x80000000u})
    for (std::uint32_t e = 0; e < 256; ++e)
      for (std::uint32_t high : {0u, 0x2000u, 0x4000u, 0x7fe000u, 0x10000u, 0x20000u, 0x7f0000u})
        for (std::uint32_t low : {0u, 1u, 0xfffu, 0x1000u, 0x1001u, 0x7fffu, 0x8000u, 0x8001u, 0xffffu})
          v.push_back(std::bit_cast<float>(sign | (e << 23) | high | low));
  for (float f : {65504.0f, 65519.0f, 65520.0f, 65536.0f, 0x1p-24f, 0x1p-25f, 0x1.8p-25f, 0x1p-26f, 0x1p-14f,
                  std::numeric_limits<float>::max(), std::numeric_limits<float>::infinity(),
                  std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::signaling_NaN()})
    v.insert(v.end(), {f, -f});
  return v;
}
}  // namespace

BOOST_AUTO_TEST_CASE(float_to_bfloat16_and_half_round_as_eigen_does) {
  int bf16 = 0, half = 0;
  std::size_t n = 0;
  for (float f : probe_floats()) {
    ++n;
    const std::uint16_t b = tapeless::detail::float_to_bfloat16_bits(f);
    const std::uint16_t h = tapeless::detail::float_to_half_bits(f);
    if (!same(tapeless::detail::bfloat16_bits_to_float(b), static_cast<float>(Eigen::bfloat16(f)))) ++bf16;
    if (!same(tapeless::detail::half_bits_to_float(h), static_cast<float>(Eigen::half(f)))) ++half;
  }
  BOOST_TEST(n > 90000u);
  BOOST_TEST(bf16 == 0);
  BOOST_TEST(half == 0);
  // the edges, by value
  BOOST_TEST(tapeless::detail::float_to_half_bits(65504.0f) == 0x7bff);
  BOOST_TEST(tapeless::detail::float_to_half_bits(65520.0f) == 0x7c00);  // the tie past 65504: infinity
  BOOST_TEST(tapeless::detail::float_to_half_bits(0x1p-25f) == 0x0000);  // the tie below 2^-24: even, zero
  BOOST_TEST(tapeless::detail::float_to_half_bits(0x1.8p-25f) == 0x0001);
  BOOST_TEST(tapeless::detail::float_to_bfloat16_bits(1.0f + 0x1p-8f) == 0x3f80);  // tie: even
  BOOST_TEST(tapeless::detail::float_to_bfloat16_bits(1.0f + 0x1.8p-8f) == 0x3f81);
  BOOST_TEST(std::isnan(tapeless::detail::bfloat16_bits_to_float(
      tapeless::detail::float_to_bfloat16_bits(std::bit_cast<float>(0x7f800001u)))));  // not rounded to inf
}

BOOST_AUTO_TEST_CASE(array_loops_equal_the_scalar_conversions) {
  using tapeless::detail::Half;
  const std::vector<float> v = probe_floats();
  const std::size_t n = 1001;  // not a multiple of a vector's width: the tail runs too
  for (std::size_t first = 0; first + n <= v.size(); first += 7919) {
    std::vector<float> b(v.begin() + static_cast<std::ptrdiff_t>(first),
                         v.begin() + static_cast<std::ptrdiff_t>(first + n));
    std::vector<float> h = b;
    tapeless::detail::round_to<Half::bfloat16>(b.data(), n);
    tapeless::detail::round_to<Half::binary16>(h.data(), n);
    std::vector<std::uint16_t> bits(n);
    std::vector<float> back(n);
    int bad = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const float f = v[first + i];
      bad += !same(b[i], tapeless::detail::bfloat16_bits_to_float(tapeless::detail::float_to_bfloat16_bits(f)));
      bad += !same(h[i], tapeless::detail::half_bits_to_float(tapeless::detail::float_to_half_bits(f)));
    }
    tapeless::detail::pack<Half::binary16>(h.data(), bits.data(), n);
    tapeless::detail::unpack<Half::binary16>(bits.data(), back.data(), n);
    for (std::size_t i = 0; i < n; ++i) bad += !same(back[i], h[i]);
    tapeless::detail::pack<Half::bfloat16>(b.data(), bits.data(), n);
    tapeless::detail::unpack<Half::bfloat16>(bits.data(), back.data(), n);
    for (std::size_t i = 0; i < n; ++i) bad += !same(back[i], b[i]);
    BOOST_TEST(bad == 0);
  }
}
