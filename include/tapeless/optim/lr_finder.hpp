/// @file
/// @brief The learning-rate finder of the reference notes (001): the loss after one step at each
/// learning rate of a log-spaced sweep; the network is restored afterwards.
#pragma once

#include "tapeless/network/trainer.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

namespace tapeless {

/// One point of a learning-rate sweep.
struct LrPoint {
  double lr;
  double loss;  ///< the loss of the step taken at lr (NaN if the step was not finite)
};

/// For `steps` learning rates log-spaced from `lo` to `hi`: loads batch i with `fill(trainer, i)`,
/// makes an optimizer with `make_optimizer(lr)` and takes one step, continuing from the weights
/// the previous step left. The network's weights are restored exactly at the end.
template <class Train, class Net, class MakeOptimizer, class Fill>
std::vector<LrPoint> find_learning_rate(Train& trainer, Net& net, MakeOptimizer&& make_optimizer, Fill&& fill, double lo,
                                        double hi, int steps) {
  if (!(lo > 0 && hi > lo && steps >= 2))
    throw std::invalid_argument("tapeless::find_learning_rate: needs 0 < lo < hi and at least 2 steps");
  const typename Net::vector_type saved = net.values();
  std::vector<LrPoint> out;
  for (int i = 0; i < steps; ++i) {
    const double lr = lo * std::pow(hi / lo, static_cast<double>(i) / (steps - 1));
    fill(trainer, i);
    auto optimizer = make_optimizer(lr);
    const StepResult r = trainer.step(optimizer);
    out.push_back({lr, r.ok() ? r.loss : std::nan("")});
  }
  net.values() = saved;
  return out;
}

}  // namespace tapeless
