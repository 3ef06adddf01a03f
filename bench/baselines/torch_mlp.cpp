// libtorch baseline: see torch_mlp.hpp.
#include "baselines/torch_mlp.hpp"

#include <cstring>
#include <stdexcept>
#include <torch/torch.h>

namespace bench {

struct TorchMlp::Impl {
  torch::nn::Sequential net;
  std::vector<torch::Tensor> params;  // w0, b0, w1, b1, ... as registered
  std::unique_ptr<torch::optim::SGD> optimizer;
  torch::Tensor x, y;
};

TorchMlp::TorchMlp(const std::vector<int>& widths, const std::string& activation, int batch, const float* params,
                   const float* x, const std::vector<int>& labels, float lr)
    : impl_(std::make_unique<Impl>()) {
  torch::set_num_threads(1);
  if (activation != "relu" && activation != "sigmoid")
    throw std::invalid_argument("TorchMlp: activation must be relu or sigmoid, not " + activation);
  const std::size_t layers = widths.size() - 1;
  for (std::size_t i = 0; i < layers; ++i) {
    torch::nn::Linear linear(widths[i], widths[i + 1]);
    torch::NoGradGuard no_grad;
    // A column-major In x Out matrix is a row-major Out x In one: PyTorch's weight layout.
    std::memcpy(linear->weight.data_ptr<float>(), params, sizeof(float) * widths[i] * widths[i + 1]);
    params += widths[i] * widths[i + 1];
    std::memcpy(linear->bias.data_ptr<float>(), params, sizeof(float) * widths[i + 1]);
    params += widths[i + 1];
    impl_->net->push_back(linear);
    impl_->params.push_back(linear->weight);
    impl_->params.push_back(linear->bias);
    if (i + 1 < layers) {
      if (activation == "relu")
        impl_->net->push_back(torch::nn::ReLU());
      else
        impl_->net->push_back(torch::nn::Sigmoid());
    }
  }
  impl_->optimizer = std::make_unique<torch::optim::SGD>(impl_->net->parameters(), torch::optim::SGDOptions(lr));
  // x is batch x In column-major, that is In x batch row-major.
  impl_->x = torch::from_blob(const_cast<float*>(x), {widths.front(), batch}, torch::kFloat32).t().contiguous();
  impl_->y = torch::empty({batch}, torch::kInt64);
  for (int i = 0; i < batch; ++i) impl_->y[i] = labels[static_cast<std::size_t>(i)];
}

TorchMlp::~TorchMlp() = default;

double TorchMlp::compute() {
  impl_->optimizer->zero_grad();
  torch::Tensor loss = torch::nn::functional::cross_entropy(impl_->net->forward(impl_->x), impl_->y);
  loss.backward();
  return loss.item<double>();
}

double TorchMlp::step() {
  const double loss = compute();
  impl_->optimizer->step();
  return loss;
}

float TorchMlp::infer() {
  torch::NoGradGuard no_grad;
  return impl_->net->forward(impl_->x).data_ptr<float>()[0];
}

std::vector<float> TorchMlp::gradients() const {
  std::vector<float> out;
  for (const auto& p : impl_->params) {
    torch::Tensor g = p.grad().contiguous();  // weight [Out, In] row-major = tapeless's In x Out
    out.insert(out.end(), g.data_ptr<float>(), g.data_ptr<float>() + g.numel());
  }
  return out;
}

std::string TorchMlp::version() { return TORCH_VERSION; }

}  // namespace bench
