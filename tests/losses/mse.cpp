// losses/mse.hpp: known values and finite differences.
#define BOOST_TEST_MODULE losses_mse
#include "tapeless/losses/mse.hpp"

#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

using namespace tapeless;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(known_values) {
  Tensor<double, 2, 1> p{{1}, {3}}, t{{0}, {1}};
  auto g = grad(mse(p, t), p, t);  // ((1)^2 + (2)^2) / 2 = 2.5; dp = 2 (p - t) / 2 = (1, 2)
  BOOST_TEST(g.scalar() == 2.5);
  BOOST_TEST((g[p] == (Eigen::Vector2d() << 1, 2).finished()));
  BOOST_TEST((g[t] == (Eigen::Vector2d() << -1, -2).finished()));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, S, test::scalar_types) {
  Tensor<S, 4, 3> p, t;
  test::randomize(p), test::randomize(t);
  test::check_gradients(mse(p, t), p, t);
}
