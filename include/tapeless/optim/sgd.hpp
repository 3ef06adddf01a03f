/// @file
/// @brief Stochastic gradient descent, with momentum and weight decay (PyTorch's formulation).
///
///   g <- g + weight_decay * w;   v <- momentum * v + g;   w <- w - lr * v
/// (with momentum 0: w <- w - lr * g, the reference notes' plain update). One vectorised pass
/// over a network's contiguous buffers; the velocity is allocated once, at construction.
#pragma once

#include <Eigen/Core>

namespace tapeless {

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0;
  double weight_decay = 0;
};

template <class S>
class Sgd {
 public:
  using vector_type = Eigen::Matrix<S, Eigen::Dynamic, 1>;

  template <class Net>
  explicit Sgd(const Net& net, SgdOptions o = {}) : options_(o), velocity_(vector_type::Zero(net.values().size())) {}

  /// Updates `w` in place from its gradient `g`.
  void update(vector_type& w, const vector_type& g) {
    const S lr = static_cast<S>(options_.lr), mu = static_cast<S>(options_.momentum),
            wd = static_cast<S>(options_.weight_decay);
    if (options_.momentum == 0 && options_.weight_decay == 0) {
      w -= lr * g;
    } else if (options_.momentum == 0) {
      w -= lr * (g + wd * w);
    } else {
      velocity_ = mu * velocity_ + g + wd * w;
      w -= lr * velocity_;
    }
  }
  template <class Net>
  void update(Net& net) {
    update(net.values(), net.gradients());
  }

  SgdOptions& options() noexcept { return options_; }
  const vector_type& velocity() const noexcept { return velocity_; }

 private:
  SgdOptions options_;
  vector_type velocity_;
};

template <class Net>
Sgd(const Net&, SgdOptions = {}) -> Sgd<typename Net::scalar_type>;

}  // namespace tapeless
