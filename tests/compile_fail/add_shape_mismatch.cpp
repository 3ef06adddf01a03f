// Adding a 3x4 to a 4x3 expression: one diagnostic naming the op and both shapes.
// expect: tapeless: the operand shapes do not fit this operation
// expect: shape_mismatch<tapeless::ops::Add<tapeless::ops::Broadcast::none>, tapeless::Shape<3, 4>, tapeless::Shape<4, 3>
#include "tapeless/tapeless.hpp"

int main() {
  tapeless::Tensor<double, 3, 4> a;
#ifndef TAPELESS_TWIN
  tapeless::Tensor<double, 4, 3> b;
#else
  tapeless::Tensor<double, 3, 4> b;
#endif
  auto bad = a + b;
  auto loss = tapeless::sum(tapeless::relu(bad) * 2.0);  // no further error from uses of `bad`
  auto g = tapeless::grad(loss, a, b);
  return static_cast<int>(g[a](0, 0));
}
