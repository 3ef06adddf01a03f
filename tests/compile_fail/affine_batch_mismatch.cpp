// A batch of 784-wide rows through a 256-input layer: the rule names the batch as -1.
// expect: tapeless: the operand shapes do not fit this operation
// expect: shape_mismatch<tapeless::ops::Affine, tapeless::Shape<-1, 784>, tapeless::Shape<256, 10>, tapeless::Shape<1, 10>
#include "tapeless/tapeless.hpp"

int main() {
  tapeless::Tensor<float, tapeless::dynamic, 784> x;
#ifndef TAPELESS_TWIN
  tapeless::Tensor<float, 256, 10> w;
#else
  tapeless::Tensor<float, 784, 10> w;
#endif
  tapeless::Tensor<float, 1, 10> b;
  auto y = tapeless::affine(x, w, b);
  return static_cast<int>(tapeless::eval(y)(0, 0));
}
