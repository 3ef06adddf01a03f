// Assigning a matrix whose static shape differs from a tensor's (or a parameter's): one
// diagnostic naming the rule, where the tensor is assigned (not Eigen's own assertion after it).
// expect: the matrix assigned to a tensor has another column count than the tensor
#include "tapeless/core/tensor.hpp"

int main() {
  tapeless::Tensor<double, 2, 3> t;
#ifndef TAPELESS_TWIN
  t = Eigen::Matrix<double, 2, 2>::Zero();
#else
  t = Eigen::Matrix<double, 2, 3>::Zero();
#endif
  return static_cast<int>(t(0, 0));
}
