// Adding a float to a double tensor: one diagnostic naming the op and both scalar types, where
// the node is made (not deep inside Eigen).
// expect: tapeless: the operands of this operation have different scalar types
// expect: scalar_type_mismatch<tapeless::ops::Add<tapeless::ops::Broadcast::none>, float, double>
#include "tapeless/tapeless.hpp"

int main() {
  tapeless::Tensor<float, 2, 3> a;
#ifndef TAPELESS_TWIN
  tapeless::Tensor<double, 2, 3> b;
#else
  tapeless::Tensor<float, 2, 3> b;
#endif
  auto loss = tapeless::sum(tapeless::relu(a + b) * 2.0);  // no further error from uses of `a + b`
  auto g = tapeless::grad(loss, a, b);
  return static_cast<int>(g[a](0, 0));
}
