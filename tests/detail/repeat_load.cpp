#define BOOST_TEST_MODULE detail_repeat_load
#include "tapeless/detail/repeat_load.hpp"

#include <boost/test/unit_test.hpp>

// Every address a caller may pass: each offset into a buffer of Eigen's alignment, so that an
// 8-byte read of two floats is misaligned at half of them (g++'s UBSan, tests/run's sanitizer
// build, stops on Eigen's own SSE ploaddup there).
template <class S>
void repeats_every_coefficient_at_every_offset() {
  using P = typename Eigen::internal::packet_traits<S>::type;
  constexpr Eigen::Index L = Eigen::internal::packet_traits<S>::size;
  alignas(64) S source[3 * L];
  for (Eigen::Index i = 0; i < 3 * L; ++i) source[i] = S(i + 1);
  for (Eigen::Index times : {Eigen::Index(1), Eigen::Index(2), Eigen::Index(4)}) {
    if (times > L) continue;  // (4 only for packets of 4 lanes or more: a double under SSE has 2)
    for (Eigen::Index offset = 0; offset < 2 * L; ++offset) {
      S lanes[L];
      Eigen::internal::pstoreu(lanes, tapeless::detail::repeat_load<P>(source, times * offset, times));
      for (Eigen::Index l = 0; l < L; ++l)
        BOOST_TEST(lanes[l] == source[offset + l / times],
                   "times " << times << ", offset " << offset << ", lane " << l);
    }
  }
}

BOOST_AUTO_TEST_CASE(float_packets_repeat_each_coefficient) { repeats_every_coefficient_at_every_offset<float>(); }
BOOST_AUTO_TEST_CASE(double_packets_repeat_each_coefficient) { repeats_every_coefficient_at_every_offset<double>(); }
