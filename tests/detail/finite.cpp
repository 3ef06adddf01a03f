#define BOOST_TEST_MODULE detail_finite
#include "tapeless/detail/finite.hpp"

#include <boost/test/unit_test.hpp>

#include <limits>

BOOST_AUTO_TEST_CASE(finite_vectors_pass_and_any_nan_or_inf_fails_wherever_it_is) {
  Eigen::VectorXf v = Eigen::VectorXf::LinSpaced(1000, -1e38f, 1e38f);
  BOOST_TEST(tapeless::detail::all_finite(v));
  BOOST_TEST(tapeless::detail::all_finite(Eigen::VectorXf()));
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()})
    for (Eigen::Index at : {0, 1, 17, 998, 999}) {  // both ends, inside a packet and in the tail
      Eigen::VectorXf w = v;
      w(at) = bad;
      BOOST_TEST(!tapeless::detail::all_finite(w), "value " << bad << " at " << at);
    }
  Eigen::Matrix<double, 3, 5> m = Eigen::Matrix<double, 3, 5>::Ones();
  BOOST_TEST(tapeless::detail::all_finite(m));
  m(2, 4) = std::numeric_limits<double>::quiet_NaN();
  BOOST_TEST(!tapeless::detail::all_finite(m));
}
