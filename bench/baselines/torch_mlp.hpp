/// @file
/// @brief The tape-based baseline users compare with: the same MLP in libtorch (torch::nn
/// modules, autograd, torch::optim::SGD), behind an interface free of torch headers so that
/// only torch_mlp.cpp pays for them. Built only when libtorch is found (TAPELESS_BENCH_TORCH).
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace bench {

class TorchMlp {
 public:
  /// `widths` In, hidden..., Out; `activation` "relu" or "sigmoid". `params` in tapeless's
  /// layout (per layer: W as In x Out column-major, then b), `x` batch x In column-major.
  TorchMlp(const std::vector<int>& widths, const std::string& activation, int batch, const float* params,
           const float* x, const std::vector<int>& labels, float lr);
  ~TorchMlp();
  TorchMlp(const TorchMlp&) = delete;
  TorchMlp& operator=(const TorchMlp&) = delete;

  /// zero_grad, forward, cross_entropy, backward, optimizer step; returns the loss.
  double step();
  /// zero_grad, forward, cross_entropy, backward (no update); returns the loss.
  double compute();
  /// Forward under NoGradGuard; returns the first logit (to keep the work observable).
  float infer();
  /// The gradients of the last compute() or step(), in tapeless's layout.
  std::vector<float> gradients() const;

  /// libtorch's version string, e.g. "1.13.1".
  static std::string version();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bench
