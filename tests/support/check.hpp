// Shared test helpers: scalar types, tolerances, random tensors, gradient checks.
#pragma once

#include "tapeless/check/gradient_check.hpp"
#include "tapeless/core/tensor.hpp"

#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <random>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace test {

using scalar_types = boost::mpl::list<float, double>;

/// Relative tolerance of a central-difference check: about 1e-6 in double; float's 24-bit
/// mantissa and its larger step leave about 1e-2.
template <class S>
inline constexpr double fd_tolerance = std::is_same_v<S, double> ? 1e-6 : 1e-2;

/// Gradients smaller than this are compared absolutely (see check_gradient's floor). In float
/// a central difference of step h ~ 5e-3 carries an absolute noise of about eps |L| / h ~ 1e-4,
/// so gradients under 1e-2 cannot be resolved relatively; in double the noise is ~1e-10.
template <class S>
inline constexpr double fd_floor = std::is_same_v<S, double> ? 1e-3 : 1e-2;

/// The generator of the running test case for `seed`: seeded from the seed and the test case's
/// name, so a test's data depend on the test and the order of its own calls only, never on which
/// tests ran before it (one engine per scalar type, as before, made data depend on test order).
inline std::mt19937& engine(unsigned seed) {
  static std::map<std::pair<std::string, unsigned>, std::mt19937> engines;
  const std::string test = boost::unit_test::framework::current_test_case().full_name();
  auto it = engines.find({test, seed});
  if (it == engines.end()) {
    std::seed_seq seq(test.begin(), test.end());
    std::vector<unsigned> mixed(1);
    seq.generate(mixed.begin(), mixed.end());
    it = engines.emplace(std::pair{test, seed}, std::mt19937(mixed[0] ^ seed)).first;
  }
  return it->second;
}

/// Fills a tensor with uniform values in [lo, hi), from the test case's generator (see engine).
template <class S, int R, int C>
void randomize(tapeless::Tensor<S, R, C>& t, double lo = -1.0, double hi = 1.0, unsigned seed = 42) {
  std::mt19937& engine = test::engine(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  for (tapeless::Index j = 0; j < t.value().cols(); ++j)
    for (tapeless::Index i = 0; i < t.value().rows(); ++i) t(i, j) = static_cast<S>(u(engine));
}

/// `Loss(net(x), y)` as one program over the whole network's expression, run once: its loss
/// (`scalar()`) and every parameter's gradient (in net.gradients()) are the reference a network
/// compiled layer by layer (network/chain.hpp) is checked against.
template <class Loss, class Net, class X, class Y>
auto whole_network_loss(Net& net, const X& x, const Y& y) {
  return std::apply([&](auto&... p) { return tapeless::grad(Loss::apply(net.forward(tapeless::input(x)), y), p...); },
                    net.params().refs());
}

/// Checks the gradient of `loss` with respect to each of `wrt` against central differences, with
/// one program for all of them (tapeless::check_gradients).
template <class E, class... T>
void check_gradients(const E& loss, T&... wrt) {
  using S = tapeless::scalar_t<E>;
  const auto checks = tapeless::check_gradients({.step = 0, .floor = fd_floor<S>}, loss, wrt...);
  for (std::size_t k = 0; k < checks.size(); ++k)
    BOOST_TEST(checks[k].passed(fd_tolerance<S>),
               "tensor " + std::to_string(k) + " of the check: " + checks[k].report());
}

}  // namespace test
