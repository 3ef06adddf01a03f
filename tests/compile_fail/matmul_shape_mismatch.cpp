// Multiplying a 3x4 by a 5x2 matrix: one diagnostic naming the op and both shapes.
// expect: tapeless: the operand shapes do not fit this operation
// expect: shape_mismatch<tapeless::ops::MatMul, tapeless::Shape<3, 4>, tapeless::Shape<5, 2>
#include "tapeless/tapeless.hpp"

int main() {
  tapeless::Tensor<float, 3, 4> a;
#ifndef TAPELESS_TWIN
  tapeless::Tensor<float, 5, 2> b;
#else
  tapeless::Tensor<float, 4, 2> b;
#endif
  auto loss = tapeless::mean(tapeless::matmul(a, b));
  return static_cast<int>(tapeless::grad(loss, a).scalar());
}
