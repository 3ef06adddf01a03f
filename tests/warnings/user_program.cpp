// What a user's program instantiates, compiled as a user compiles it: g++'s default -O3 of a CMake
// Release build, -Wall -Wextra -Wpedantic as errors and nothing suppressed (the tests' own flags
// silence -Waggressive-loop-optimizations, for Eigen's matrix-vector kernel). tests/CMakeLists.txt
// builds it twice, for the default target and for this machine (-march=native); a warning from a
// tapeless header fails the build. It caught g++ 12 warning in unpacked_gemm_tn and
// transpose_into, whose clones for a caller's constant sizes it analysed on paths those sizes
// rule out, and in transpose_rows inlined into gather_rows for 784-wide images (the main job's
// batch fill).
#include "tapeless/network/gather.hpp"
#include "tapeless/network/parallel_trainer.hpp"
#include "tapeless/tapeless.hpp"

#include <span>

namespace {

using namespace tapeless;
using Small = Network<Sequential<Linear<4, 16>, ReLU, Linear<16, 16>, ReLU, Linear<16, 3>>, float>;
using Mnist = Network<Sequential<Linear<784, 256>, ReLU, Linear<256, 10>>, float>;
using Wide = Network<Sequential<Linear<64, 64>, ReLU, Linear<64, 64>, ReLU, Linear<64, 10>>, float>;

}  // namespace

float small_steps(Small& net) {
  Trainer<Small, SoftmaxCrossEntropy<>, 1> fixed(net);
  Trainer<Small, SoftmaxCrossEntropy<>, dynamic> run_time(net, 5);
  Predictor<Small, 1> one(net);
  Predictor<Small> many(net, 7);
  Sgd<float> sgd(net, SgdOptions{0.01});
  return static_cast<float>(fixed.step(sgd).loss + run_time.step(sgd).loss) + one()(0, 0) + many()(0, 0);
}

// 64 wide: products of at least a packet of rows, through the unpacked kernel's column blocks,
// at a run-time batch of one and at a fixed one.
float wide_steps(Wide& net) {
  Trainer<Wide, SoftmaxCrossEntropy<>, dynamic> run_time(net, 1);
  Trainer<Wide, SoftmaxCrossEntropy<>, 1> fixed(net);
  Sgd<float> sgd(net, SgdOptions{0.01});
  return static_cast<float>(run_time.step(sgd).loss + fixed.step(sgd).loss);
}

double mnist_steps(Mnist& net, const Eigen::Matrix<float, Eigen::Dynamic, 784, Eigen::RowMajor>& images,
                   std::span<const Index> order) {
  Trainer<Mnist, SoftmaxCrossEntropy<>, dynamic> trainer(net, 64);
  gather_rows(trainer.inputs(), images, order.subspan(0, 64));  // the main job's batch fill
  ParallelTrainer<Mnist, SoftmaxCrossEntropy<>> parallel(net, 2, 64);
  Adam<float> adam(net);
  return trainer.step(adam).loss + parallel.step(adam).loss;
}
