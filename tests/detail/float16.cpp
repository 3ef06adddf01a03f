// The F16 and BF16 conversions used by the safetensors reader agree with Eigen's own half and
// bfloat16 types on every one of the 65536 bit patterns (NaNs: both NaN).
#define BOOST_TEST_MODULE detail_float16
#include "tapeless/detail/float16.hpp"

#include <Eigen/Core>
#include <boost/test/unit_test.hpp>

#include <bit>
#include <cmath>
#include <cstdint>

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
