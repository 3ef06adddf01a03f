// network/predictor.hpp: inference on one const network from several threads at once gives
// bit-identical outputs. CTest runs this file twice: as built, and built with ThreadSanitizer
// (test_tsan_network_concurrency), which reports any data race.
#define BOOST_TEST_MODULE network_concurrency
#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/predictor.hpp"

#include <boost/test/unit_test.hpp>

#include <thread>
#include <vector>

using namespace tapeless;

BOOST_AUTO_TEST_CASE(threads_share_a_const_network) {
  using Net = Network<Sequential<Linear<64, 128>, ReLU, Residual<Sequential<Linear<128, 128>, Tanh>>, Linear<128, 10>>>;
  const Net net(7);
  Tensor<float, 16, 64> x;
  x.value().setRandom();
  Predictor<Net> reference(net, 16);
  reference.inputs() = x.value();
  const Eigen::MatrixXf expected = reference();

  constexpr int threads = 4, rounds = 200;
  std::vector<int> identical(threads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      Predictor<Net> p(net, 16);
      p.inputs() = x.value();
      for (int r = 0; r < rounds; ++r)
        identical[static_cast<std::size_t>(t)] += (p().array() == expected.array()).all();
    });
  for (auto& th : pool) th.join();
  for (int t = 0; t < threads; ++t) BOOST_TEST(identical[static_cast<std::size_t>(t)] == rounds);
}
