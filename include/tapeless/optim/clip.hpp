/// @file
/// @brief Gradient clipping and monitoring (reference notes 001): clip by global norm, clip by
/// value, and per-parameter gradient norms with vanishing / exploding flags.
#pragma once

#include "tapeless/network/network.hpp"

#include <Eigen/Core>

#include <string>
#include <vector>

namespace tapeless {

/// Scales the gradients so that their global L2 norm is at most `max_norm` (as
/// torch.nn.utils.clip_grad_norm_). Returns the norm before clipping.
template <class V>
double clip_by_global_norm(V& gradients, double max_norm) {
  const double norm = static_cast<double>(gradients.norm());
  if (norm > max_norm && norm > 0) gradients *= static_cast<typename V::Scalar>(max_norm / norm);
  return norm;
}

/// Clamps every gradient coefficient into [-max_value, max_value].
template <class V>
void clip_by_value(V& gradients, double max_value) {
  using S = typename V::Scalar;
  gradients = gradients.cwiseMax(static_cast<S>(-max_value)).cwiseMin(static_cast<S>(max_value));
}

/// One parameter's gradient norm, flagged as the notes flag them.
struct GradientNorm {
  std::string name;
  double norm;
  bool vanishing;  ///< norm < 1e-7
  bool exploding;  ///< norm > 100
};

/// The gradient norm of every parameter of `net`, in storage order.
template <class Net>
std::vector<GradientNorm> gradient_norms(const Net& net, double vanishing = 1e-7, double exploding = 100) {
  std::vector<GradientNorm> out;
  for (const ParameterInfo& p : net.parameters()) {
    const double n = static_cast<double>(net.gradients().segment(p.offset, p.rows * p.cols).norm());
    out.push_back({p.name, n, n<vanishing, n> exploding});
  }
  return out;
}

}  // namespace tapeless
