// Asking for a gradient with respect to the targets of a loss that declares them data.
// expect: tapeless::grad: a requested tensor is only used as an operand the op declares not differentiable
#include "tapeless/tapeless.hpp"

int main() {
  tapeless::Tensor<float, 4, 3> z;
  tapeless::Tensor<float, tapeless::dynamic, 3> t(4);
#ifndef TAPELESS_TWIN
  auto g = tapeless::grad(tapeless::softmax_cross_entropy(z, t), t);
#else
  auto g = tapeless::grad(tapeless::softmax_cross_entropy(z, t), z);
#endif
  return static_cast<int>(g.scalar());
}
