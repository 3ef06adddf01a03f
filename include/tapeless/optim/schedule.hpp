/// @file
/// @brief Learning-rate schedules (step decay, cosine, one-cycle, linear warm-up) and early
/// stopping.
///
/// A schedule is a callable `double(std::int64_t step)`: the rate for step 0, 1, ... It is a
/// closed form of the PyTorch scheduler of the same rule (tests/optim/schedule.cpp compares every
/// step with torch.optim.lr_scheduler's), and it is applied by setting the optimizer's rate
/// before each step:
///
///     CosineDecay cosine(0.1, steps);
///     for (std::int64_t t = 0; t < steps; ++t) {
///       set_learning_rate(sgd, cosine(t));
///       trainer.step(sgd);
///     }
///
/// Parameters are checked at construction (std::invalid_argument naming the schedule, the
/// parameter, its value and the rule); the optimizer checks the rate again when it is set.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace tapeless {

namespace detail {
[[noreturn]] inline void bad_schedule(const char* schedule, const char* parameter, double value, const char* rule) {
  std::ostringstream out;
  out << "tapeless::" << schedule << ": " << parameter << " is " << value << "; it must be " << rule;
  throw std::invalid_argument(out.str());
}
inline void require_positive(const char* schedule, const char* parameter, double value) {
  if (!(std::isfinite(value) && value > 0)) bad_schedule(schedule, parameter, value, "finite and > 0");
}
/// PyTorch's cosine annealing from `start` to `end` as pct goes from 0 to 1.
inline double anneal_cos(double start, double end, double pct) {
  return end + (start - end) / 2 * (std::cos(std::numbers::pi * pct) + 1);
}
}  // namespace detail

/// lr * factor^floor(step / every): PyTorch's StepLR(step_size = every, gamma = factor).
class StepDecay {
 public:
  StepDecay(double lr, std::int64_t every, double factor = 0.1) : lr_(lr), every_(every), factor_(factor) {
    detail::require_positive("StepDecay", "lr", lr);
    if (every < 1) detail::bad_schedule("StepDecay", "every", static_cast<double>(every), ">= 1");
    detail::require_positive("StepDecay", "factor", factor);
  }
  double operator()(std::int64_t step) const {
    return lr_ * std::pow(factor_, static_cast<double>(std::max<std::int64_t>(step, 0) / every_));
  }

 private:
  double lr_;
  std::int64_t every_;
  double factor_;
};

/// From lr down to min_lr along half a cosine over `steps` steps, then min_lr:
/// PyTorch's CosineAnnealingLR(T_max = steps, eta_min = min_lr).
class CosineDecay {
 public:
  CosineDecay(double lr, std::int64_t steps, double min_lr = 0) : lr_(lr), steps_(steps), min_(min_lr) {
    detail::require_positive("CosineDecay", "lr", lr);
    if (steps < 1) detail::bad_schedule("CosineDecay", "steps", static_cast<double>(steps), ">= 1");
    if (!(std::isfinite(min_lr) && min_lr >= 0 && min_lr <= lr))
      detail::bad_schedule("CosineDecay", "min_lr", min_lr, "finite, >= 0 and <= lr");
  }
  double operator()(std::int64_t step) const {
    const double t = static_cast<double>(std::clamp<std::int64_t>(step, 0, steps_));
    return detail::anneal_cos(lr_, min_, t / static_cast<double>(steps_));
  }

 private:
  double lr_;
  std::int64_t steps_;
  double min_;
};

/// Smith's one-cycle policy as PyTorch's OneCycleLR(max_lr, total_steps = steps, pct_start,
/// div_factor, final_div_factor) with cosine annealing: from max_lr / div_factor up to max_lr
/// over the first pct_start of the steps, then down to max_lr / div_factor / final_div_factor.
class OneCycle {
 public:
  OneCycle(double max_lr, std::int64_t steps, double pct_start = 0.3, double div_factor = 25,
           double final_div_factor = 1e4)
      : max_(max_lr),
        steps_(steps),
        initial_(max_lr / div_factor),
        min_(max_lr / div_factor / final_div_factor),
        warm_end_(pct_start * static_cast<double>(steps) - 1) {
    detail::require_positive("OneCycle", "max_lr", max_lr);
    if (steps < 2) detail::bad_schedule("OneCycle", "steps", static_cast<double>(steps), ">= 2");
    if (!(pct_start > 0 && pct_start < 1)) detail::bad_schedule("OneCycle", "pct_start", pct_start, "in (0, 1)");
    if (!(warm_end_ > 0 && warm_end_ < static_cast<double>(steps - 1)))
      detail::bad_schedule("OneCycle", "pct_start * steps", pct_start * static_cast<double>(steps),
                           "more than 1 step and fewer than steps");
    detail::require_positive("OneCycle", "div_factor", div_factor);
    detail::require_positive("OneCycle", "final_div_factor", final_div_factor);
  }
  double operator()(std::int64_t step) const {
    const double t = static_cast<double>(std::clamp<std::int64_t>(step, 0, steps_ - 1));
    if (t <= warm_end_) return detail::anneal_cos(initial_, max_, t / warm_end_);
    return detail::anneal_cos(max_, min_, (t - warm_end_) / (static_cast<double>(steps_ - 1) - warm_end_));
  }

 private:
  double max_;
  std::int64_t steps_;
  double initial_, min_, warm_end_;
};

/// A linear warm-up over the first `steps` steps, from start_factor times `then`'s first rate up
/// to it, then `then` from its step 0: PyTorch's SequentialLR([LinearLR(start_factor,
/// total_iters = steps), then], milestones = [steps]).
template <class Then>
class Warmup {
 public:
  Warmup(std::int64_t steps, Then then, double start_factor = 0.1)
      : steps_(steps), then_(std::move(then)), start_(start_factor) {
    if (steps < 1) detail::bad_schedule("Warmup", "steps", static_cast<double>(steps), ">= 1");
    if (!(start_factor > 0 && start_factor <= 1))
      detail::bad_schedule("Warmup", "start_factor", start_factor, "in (0, 1]");
  }
  double operator()(std::int64_t step) const {
    if (step >= steps_) return then_(step - steps_);
    const double t = static_cast<double>(std::max<std::int64_t>(step, 0)) / static_cast<double>(steps_);
    return then_(0) * (start_ + (1 - start_) * t);
  }

 private:
  std::int64_t steps_;
  Then then_;
  double start_;
};

/// Sets an optimizer's learning rate (Sgd, Adam: through set_options, which checks it).
template <class Optimizer>
void set_learning_rate(Optimizer& optimizer, double lr) {
  auto options = optimizer.options();
  options.lr = lr;
  optimizer.set_options(options);
}

/// Early stopping on a monitored value that should fall (a validation loss): `update(value)`
/// after each epoch says whether to stop, which is after `patience` updates in a row without an
/// improvement of more than `min_delta` over the best value so far. A NaN is never an improvement.
class EarlyStopping {
 public:
  explicit EarlyStopping(int patience, double min_delta = 0) : patience_(patience), min_delta_(min_delta) {
    if (patience < 1) detail::bad_schedule("EarlyStopping", "patience", patience, ">= 1");
    if (!(std::isfinite(min_delta) && min_delta >= 0))
      detail::bad_schedule("EarlyStopping", "min_delta", min_delta, "finite and >= 0");
  }
  /// Records one value; true when training should stop.
  bool update(double value) {
    ++updates_;
    improved_ = value < best_ - min_delta_;  // false for NaN
    if (improved_) {
      best_ = value;
      best_update_ = updates_;
      waited_ = 0;
    } else {
      ++waited_;
    }
    return waited_ >= patience_;
  }
  /// Whether the last update improved on the best value (the moment to save the model).
  bool improved() const noexcept { return improved_; }
  /// The best value so far (infinity before any finite one).
  double best() const noexcept { return best_; }
  /// Which update (1, 2, ...) gave the best value; 0 if none has.
  int best_update() const noexcept { return best_update_; }

 private:
  int patience_;
  double min_delta_;
  double best_ = std::numeric_limits<double>::infinity();
  int updates_ = 0, best_update_ = 0, waited_ = 0;
  bool improved_ = false;
};

}  // namespace tapeless
