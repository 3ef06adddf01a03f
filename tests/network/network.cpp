// network/network.hpp: contiguous buffers, seeded initialisation (same on every machine), copies.
#define BOOST_TEST_MODULE network_network
#include "tapeless/network/network.hpp"

#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <random>

using namespace tapeless;
using Mlp = Sequential<Linear<64, 32>, ReLU, Linear<32, 10>>;

BOOST_AUTO_TEST_CASE(rng_is_the_standard_mersenne_twister_with_portable_conversions) {
  // The standard fixes mt19937_64's 10000th output for the default seed: the engine is portable.
  std::mt19937_64 reference;
  reference.discard(9999);
  BOOST_TEST(reference() == 9981545732273789042ull);
  // Known values, computed independently of this library: a from-the-paper mt19937_64 in Python
  // (checked against the standard's value above), 53-bit uniforms, Box-Muller.
  Rng rng(7);
  BOOST_TEST(rng.uniform() == 0.754385304152858);
  BOOST_TEST(rng.normal() == 0.23870757976144003, boost::test_tools::tolerance(1e-14));
  BOOST_TEST(rng.normal() == 0.21697228689831372, boost::test_tools::tolerance(1e-14));  // the spare
}

BOOST_AUTO_TEST_CASE(same_seed_same_weights_other_seed_other_weights) {
  Network<Mlp> a(42), b(42), c(43);
  BOOST_TEST((a.values() == b.values()));
  BOOST_TEST(!(a.values() == c.values()));
}

BOOST_AUTO_TEST_CASE(he_and_xavier_have_their_scales) {
  Network<Sequential<Linear<400, 300>>, double> he(1, Init::he), xavier(1, Init::xavier);
  const auto w_he = he.parameter("0.weight");
  const double sd = std::sqrt(w_he.array().square().mean());
  BOOST_TEST(sd == std::sqrt(2.0 / 400), boost::test_tools::tolerance(0.01));
  BOOST_TEST(std::abs(w_he.mean()) < 0.002);
  const auto w_x = xavier.parameter("0.weight");
  const double bound = std::sqrt(6.0 / 700);
  BOOST_TEST(w_x.maxCoeff() <= bound);
  BOOST_TEST(w_x.minCoeff() >= -bound);
  BOOST_TEST(w_x.maxCoeff() > 0.99 * bound);
  BOOST_TEST(he.parameter("0.bias").isZero());
}

BOOST_AUTO_TEST_CASE(copies_are_deep_and_views_follow_their_own_buffers) {
  Network<Mlp> a(1);
  Network<Mlp> b = a;
  BOOST_TEST((a.values() == b.values()));
  b.values().setZero();
  BOOST_TEST(!a.values().isZero());
  BOOST_TEST(b.params().layer<0>().weight.value().isZero());  // b's views see b's buffer
  BOOST_TEST(a.params().layer<0>().weight.value().data() == a.values().data());
  Network<Mlp> c = std::move(a);  // a move keeps the views valid: the buffers do not move
  BOOST_TEST(c.params().layer<0>().weight.value().data() == c.values().data());
}

BOOST_AUTO_TEST_CASE(a_moved_from_network_can_be_assigned_again) {
  // Moved from, a network is empty (no buffers, no parameters); assigning to it, by copy or by
  // move, makes it a whole network again. Copying from it throws instead of reading null.
  Network<Mlp> a(1), b(2);
  Network<Mlp> c = std::move(a);
  BOOST_TEST(a.empty());
  BOOST_TEST(a.parameters().empty());
  BOOST_CHECK_THROW(Network<Mlp>{a}, std::logic_error);
  a = b;
  BOOST_TEST(!a.empty());
  BOOST_TEST((a.values() == b.values()));
  BOOST_TEST(a.parameters().size() == 4u);
  BOOST_TEST(a.params().layer<0>().weight.value().data() == a.values().data());
  BOOST_TEST((a.parameter("2.bias") == b.parameter("2.bias")));
  Network<Mlp> d = std::move(c);
  c = std::move(d);
  BOOST_TEST(!c.empty());
  BOOST_TEST(d.empty());
  d = c;
  BOOST_TEST((d.values() == c.values()));
  Network<Mlp> e = std::move(d);
  const Network<Mlp>::vector_type before = b.values();
  BOOST_CHECK_THROW(b = d, std::logic_error);  // copying from an empty network: b keeps its weights
  BOOST_TEST((b.values() == before));
  b = std::move(d);  // moving one in empties b too
  BOOST_TEST(b.empty());
}

BOOST_AUTO_TEST_CASE(parameters_by_name_and_index_are_views) {
  Network<Mlp> net(2);
  net.parameter("2.bias").setConstant(3.f);
  BOOST_TEST(net.values().tail(10).isConstant(3.f));
  BOOST_TEST((net.parameter(std::size_t{3}) == net.parameter("2.bias")));
  BOOST_CHECK_THROW(net.parameter(std::size_t{4}), std::out_of_range);
}
