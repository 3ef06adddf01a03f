/// @file
/// @brief Adam (Kingma & Ba), with L2 weight decay as in PyTorch's `torch.optim.Adam`.
///
///   g <- g + weight_decay * w
///   m <- b1 m + (1 - b1) g;          v <- b2 v + (1 - b2) g^2
///   w <- w - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
/// Moments are allocated once, at construction; the step count t is part of the state so that
/// training can resume exactly.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <cstdint>

namespace tapeless {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
};

template <class S>
class Adam {
 public:
  using vector_type = Eigen::Matrix<S, Eigen::Dynamic, 1>;

  template <class Net>
  explicit Adam(const Net& net, AdamOptions o = {})
      : options_(o), m_(vector_type::Zero(net.values().size())), v_(vector_type::Zero(net.values().size())) {}

  void update(vector_type& w, const vector_type& g) {
    ++step_;
    const double b1 = options_.beta1, b2 = options_.beta2;
    const S c1 = static_cast<S>(1 - std::pow(b1, static_cast<double>(step_)));
    const S c2 = static_cast<S>(1 - std::pow(b2, static_cast<double>(step_)));
    const S wd = static_cast<S>(options_.weight_decay), lr = static_cast<S>(options_.lr),
            eps = static_cast<S>(options_.eps);
    const S sb1 = static_cast<S>(b1), sb2 = static_cast<S>(b2);
    m_.array() = sb1 * m_.array() + (1 - sb1) * (g.array() + wd * w.array());
    v_.array() = sb2 * v_.array() + (1 - sb2) * (g.array() + wd * w.array()).square();
    w.array() -= lr * (m_.array() / c1) / ((v_.array() / c2).sqrt() + eps);
  }
  template <class Net>
  void update(Net& net) {
    update(net.values(), net.gradients());
  }

  /// Sets the state (moments and step count), as a checkpoint saved it.
  void restore(const vector_type& m, const vector_type& v, std::int64_t steps) {
    m_ = m;
    v_ = v;
    step_ = steps;
  }

  AdamOptions& options() noexcept { return options_; }
  std::int64_t step_count() const noexcept { return step_; }
  const vector_type& first_moment() const noexcept { return m_; }
  const vector_type& second_moment() const noexcept { return v_; }

 private:
  AdamOptions options_;
  vector_type m_, v_;
  std::int64_t step_ = 0;
};

template <class Net>
Adam(const Net&, AdamOptions = {}) -> Adam<typename Net::scalar_type>;

}  // namespace tapeless
