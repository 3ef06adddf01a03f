// layers/layer.hpp: the initialisation's generator. Rng's engine is std::mt19937_64 written out:
// every bit of its first 2000 outputs (six twists of its state) equals the standard library's,
// for several seeds, so a network's initial weights are those of every earlier version.
#define BOOST_TEST_MODULE layers_layer
#include "tapeless/layers/layer.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <random>

BOOST_AUTO_TEST_CASE(the_engine_is_std_mt19937_64) {
  for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{42}, std::uint64_t{5489},
                             ~std::uint64_t{0}, std::uint64_t{0x9e3779b97f4a7c15}}) {
    tapeless::detail::mersenne_twister_64 ours(seed);
    std::mt19937_64 standard(seed);
    int differ = 0;
    for (int i = 0; i < 2000; ++i) differ += ours() != standard();
    BOOST_TEST(differ == 0, "seed " << seed << ": " << differ << " of 2000 outputs differ");
  }
}

BOOST_AUTO_TEST_CASE(rng_draws_from_it) {
  tapeless::Rng rng(7);
  std::mt19937_64 standard(7);
  for (int i = 0; i < 700; ++i) BOOST_TEST(rng.uniform() == static_cast<double>(standard() >> 11) * 0x1.0p-53);
}
