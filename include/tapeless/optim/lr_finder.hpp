/// @file
/// @brief The learning-rate finder of the reference notes (001), as Smith's range test and
/// fast.ai's lr_find run it: one training step per learning rate of a log-spaced sweep, each
/// continuing from the weights the previous one left, recording the loss each step computed
/// (before its own update); the network is restored afterwards.
#pragma once

#include "tapeless/network/trainer.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

namespace tapeless {

/// One point of a learning-rate sweep.
struct LrPoint {
  double lr;
  /// The loss of batch i at the weights the steps at the earlier rates left, computed by the step
  /// at `lr` before its update (so the effect of `lr` shows from the next point on); NaN if it
  /// was not finite.
  double loss;
  /// What the step at `lr` did: not ok when its update was refused (non-finite loss, gradient
  /// or update), in which case the next point starts from the same weights.
  StepResult::Status status;
};

/// For `steps` learning rates lr_i log-spaced from `lo` to `hi`: loads batch i with
/// `fill(trainer, i)`, makes an optimizer with `make_optimizer(lr_i)` and takes one step,
/// continuing from the weights the previous step left; point i records lr_i and the loss that
/// step computed before updating. The network's weights are restored exactly at the end.
template <class Train, class Net, class MakeOptimizer, class Fill>
std::vector<LrPoint> find_learning_rate(Train& trainer, Net& net, MakeOptimizer&& make_optimizer, Fill&& fill,
                                        double lo, double hi, int steps) {
  if (!(lo > 0 && hi > lo && steps >= 2))
    throw std::invalid_argument("tapeless::find_learning_rate: needs 0 < lo < hi and at least 2 steps");
  const typename Net::vector_type saved = net.values();
  std::vector<LrPoint> out;
  for (int i = 0; i < steps; ++i) {
    const double lr = lo * std::pow(hi / lo, static_cast<double>(i) / (steps - 1));
    fill(trainer, i);
    auto optimizer = make_optimizer(lr);
    const StepResult r = trainer.step(optimizer);
    out.push_back({lr, std::isfinite(r.loss) ? r.loss : std::nan(""), r.status});
  }
  net.values() = saved;
  return out;
}

}  // namespace tapeless
