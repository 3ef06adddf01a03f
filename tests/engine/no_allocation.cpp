// A forward+backward evaluation allocates nothing: counted with a global operator new and with
// Eigen's own guard (EIGEN_RUNTIME_NO_MALLOC).
#include "support/eigen_guard.hpp"  // before Eigen: its heap guard on in Release too
#define BOOST_TEST_MODULE engine_no_allocation
#include "tapeless/tapeless.hpp"

#include "support/allocation_counter.hpp"
#include "support/check.hpp"

#include <boost/test/unit_test.hpp>

using namespace tapeless;

BOOST_AUTO_TEST_CASE(three_layer_mlp_fixed_shapes) {
  Tensor<float, 8, 4> x;
  Tensor<float, 4, 16> w1;
  Tensor<float, 1, 16> b1;
  Tensor<float, 16, 16> w2;
  Tensor<float, 1, 16> b2;
  Tensor<float, 16, 3> w3;
  Tensor<float, 1, 3> b3;
  Tensor<int, 8, 1> y;
  w1.value().setRandom();
  w2.value().setRandom();
  x.value().setRandom();
  w3.value().setRandom();
  auto loss = softmax_cross_entropy(affine(relu(affine(relu(affine(input(x), w1, b1)), w2, b2)), w3, b3), input(y));
  Program program(as_expr(loss), w1, b1, w2, b2, w3, b3);
  BOOST_TEST(test::allocations_during([&] { program.run(); }) == 0);
  BOOST_TEST(test::allocations_during([&] {
               for (int i = 0; i < 10; ++i) program.run();
             }) == 0);
  BOOST_TEST(std::isfinite(program.scalar()));
  BOOST_TEST(program[w1].norm() > 0);
}

BOOST_AUTO_TEST_CASE(runtime_batch_allocates_only_when_the_batch_changes) {
  Tensor<float, dynamic, 4> x(32);
  Tensor<float, 4, 16> w1;
  Tensor<float, 1, 16> b1;
  Tensor<float, 16, 3> w2;
  Tensor<float, 1, 3> b2;
  Tensor<int, dynamic, 1> y(32);
  x.value().setRandom();
  w1.value().setRandom();
  w2.value().setRandom();
  auto loss = softmax_cross_entropy(affine(tanh(affine(input(x), w1, b1)), w2, b2), input(y));
  Program program(as_expr(loss), w1, b1, w2, b2);
  BOOST_TEST(test::allocations_during([&] { program.run(); }) == 0);
  x.resize(16);
  y.resize(16);
  x.value().setRandom();
  y.value().setZero();
  program.run();  // sizes its storage for the new batch once
  BOOST_TEST(test::allocations_during([&] { program.run(); }) == 0);
}
