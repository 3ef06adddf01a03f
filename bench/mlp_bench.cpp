// One MLP training step (forward, softmax cross-entropy, backward, plain SGD) and one inference,
// in float32 on one core, by every implementation side by side in one run:
//
//   tapeless_fixed    Trainer / Predictor with the batch size in the type
//   tapeless_dynamic  the same with the batch size chosen at run time
//   handwritten       baselines/handwritten.hpp: backprop written by hand in Eigen
//   tape              baselines/tape.hpp: a minimal run-time tape over the same Eigen kernels
//   libtorch          baselines/torch_mlp.cpp: torch::nn + autograd + torch::optim::SGD (if built)
//   numerical         central differences over every parameter (training, smallest nets only)
//
// Names are <train|infer>/<widths>/<activation>/b<batch>/<implementation>. Every benchmark also
// reports, as counters, heap allocations and bytes per step (counted over several steps outside
// the timed loop) and the bytes allocated to set it up. Before any timing, every implementation's
// gradients are checked against tapeless's on the same weights and data; a mismatch aborts.
#include "baselines/handwritten.hpp"
#include "baselines/tape.hpp"
#include "support/heap_counter.hpp"
#if TAPELESS_BENCH_TORCH
#include "baselines/torch_mlp.hpp"
#endif

#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/mse.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/predictor.hpp"
#include "tapeless/network/trainer.hpp"
#include "tapeless/optim/sgd.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using bench::Widths;
constexpr int runtime = tapeless::dynamic;
constexpr float learning_rate = 0.01f;
constexpr std::uint64_t seed = 7;

// ---- configurations -------------------------------------------------------------------------

struct UseRelu {
  using layer = tapeless::ReLU;
  using hand = bench::Relu;
  static constexpr const char* name = "relu";
  static constexpr auto tape = bench::tape::TapeMlp<float>::Activation::relu;
};
struct UseSigmoid {
  using layer = tapeless::Sigmoid;
  using hand = bench::Sigmoid;
  static constexpr const char* name = "sigmoid";
  static constexpr auto tape = bench::tape::TapeMlp<float>::Activation::sigmoid;
};

template <class Act, class W>
struct tapeless_mlp;
template <class Act, int A, int B, int C>
struct tapeless_mlp<Act, Widths<A, B, C>> {
  using type = tapeless::Sequential<tapeless::Linear<A, B>, typename Act::layer, tapeless::Linear<B, C>>;
};
template <class Act, int A, int B, int C, int D>
struct tapeless_mlp<Act, Widths<A, B, C, D>> {
  using type = tapeless::Sequential<tapeless::Linear<A, B>, typename Act::layer, tapeless::Linear<B, C>,
                                    typename Act::layer, tapeless::Linear<C, D>>;
};

template <int... W>
std::vector<int> widths_of(Widths<W...>) {
  return {W...};
}

/// One configuration: widths, activation, batch. Everything is derived from it.
template <class Act, int Batch, class W>
struct Config {
  using net_type = tapeless::Network<typename tapeless_mlp<Act, W>::type, float>;
  template <int B>
  using trainer_type = tapeless::Trainer<net_type, tapeless::SoftmaxCrossEntropy<>, B>;
  template <int B>
  using predictor_type = tapeless::Predictor<net_type, B>;
  using hand_type = bench::HandMlp<float, typename Act::hand, Batch, W>;
  using tape_type = bench::tape::TapeMlp<float>;
  using act = Act;
  static constexpr int batch = Batch;
  static constexpr int in = net_type::in;
  static constexpr int out = net_type::out;

  static std::vector<int> widths() { return widths_of(W{}); }
  static std::string name() {
    std::string s;
    for (int w : widths()) s += (s.empty() ? "" : "-") + std::to_string(w);
    return s + "/" + Act::name + "/b" + std::to_string(Batch);
  }

  /// The same data for every implementation: inputs uniform in [-1, 1], random labels.
  struct Data {
    std::vector<float> x;  // batch x in, column-major
    std::vector<int> labels;
  };
  static Data data() {
    std::mt19937 rng(1234);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::uniform_int_distribution<int> label(0, out - 1);
    Data d{std::vector<float>(std::size_t{Batch} * in), std::vector<int>(Batch)};
    for (auto& v : d.x) v = u(rng);
    for (auto& l : d.labels) l = label(rng);
    return d;
  }
  static Eigen::Map<const Eigen::MatrixXf> x_of(const Data& d) { return {d.x.data(), Batch, in}; }
};

// ---- the implementations, set up on the same weights and data --------------------------------

template <class C, int B>
struct TapelessTrain {
  typename C::net_type net{seed};
  typename C::template trainer_type<B> trainer{net, C::batch};
  tapeless::Sgd<float> sgd{net, tapeless::SgdOptions{learning_rate}};
  explicit TapelessTrain(const typename C::Data& d) {
    trainer.inputs().value() = C::x_of(d);
    for (int r = 0; r < C::batch; ++r) trainer.targets()(r, 0) = d.labels[static_cast<std::size_t>(r)];
  }
  float step() { return static_cast<float>(trainer.step(sgd).loss); }
  std::vector<float> gradients() {
    trainer.compute();
    return {net.gradients().data(), net.gradients().data() + net.gradients().size()};
  }
};

template <class C, int B>
struct TapelessInfer {
  typename C::net_type net{seed};
  typename C::template predictor_type<B> predictor{net, C::batch};
  explicit TapelessInfer(const typename C::Data& d) { predictor.inputs().value() = C::x_of(d); }
  float infer() { return predictor()(0, 0); }
};

template <class C>
struct Handwritten {
  typename C::hand_type mlp{C::batch};
  explicit Handwritten(const typename C::Data& d) {
    bench::load_parameters(mlp, typename C::net_type{seed}.values().data());  // tapeless's initial weights
    mlp.x = C::x_of(d);
    mlp.labels = d.labels;
  }
  float step() { return mlp.step(learning_rate); }
  float infer() { return mlp.infer()(0, 0); }
  std::vector<float> gradients() {
    mlp.compute();
    return bench::flat_gradients(mlp);
  }
};

template <class C>
struct Numerical : Handwritten<C> {
  static constexpr float eps = 1e-3f;
  using Handwritten<C>::Handwritten;
  float step() { return bench::numerical_step(this->mlp, eps, learning_rate); }
  std::vector<float> gradients() {
    bench::numerical_step(this->mlp, eps, 0.f);  // learning rate 0: the weights stay
    return bench::flat_gradients(this->mlp);
  }
};

template <class C>
struct Tape {
  typename C::tape_type mlp{C::widths(), C::act::tape, C::batch};
  explicit Tape(const typename C::Data& d) {
    mlp.load(typename C::net_type{seed}.values().data());  // tapeless's initial weights
    mlp.x = C::x_of(d);
    mlp.labels = d.labels;
  }
  float step() { return mlp.step(learning_rate); }
  float infer() { return mlp.infer()(0, 0); }
  std::vector<float> gradients() {
    mlp.compute();
    return mlp.gradients();
  }
};

#if TAPELESS_BENCH_TORCH
template <class C>
struct Torch {
  bench::TorchMlp mlp;
  explicit Torch(const typename C::Data& d)
      : mlp(C::widths(), C::act::name, C::batch, typename C::net_type{seed}.values().data(), d.x.data(), d.labels,
            learning_rate) {}
  float step() { return static_cast<float>(mlp.step()); }
  float infer() { return mlp.infer(); }
  std::vector<float> gradients() {
    mlp.compute();
    return mlp.gradients();
  }
};
#endif

// ---- checks before timing --------------------------------------------------------------------

/// max |a - b| / max |b|: the worst deviation relative to the gradient's scale.
double deviation(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::abs(double(b[i])));
  }
  return worst / std::max(scale, 1e-30);
}

template <class Impl, class C>
void check_gradients(const char* impl, const std::vector<float>& reference, double tolerance) {
  const typename C::Data d = C::data();
  Impl m(d);
  const double dev = deviation(m.gradients(), reference);
  std::fprintf(stderr, "  %-18s %-28s gradient deviation from tapeless %.2e (tolerance %.0e)\n", impl,
               C::name().c_str(), dev, tolerance);
  if (!(dev <= tolerance)) {
    std::fprintf(stderr, "mlp_bench: %s's gradients on %s differ from tapeless's: deviation %.3e > %.0e\n", impl,
                 C::name().c_str(), dev, tolerance);
    std::exit(1);
  }
}

// ---- benchmarks ------------------------------------------------------------------------------

/// Times `Impl::step()` (or `infer()`); counts heap use of the setup and of `per_count` steps.
template <class Impl, class C, bool Infer>
void run(benchmark::State& state, int per_count) {
  const typename C::Data d = C::data();
  Impl* impl = nullptr;
  const auto setup = bench::heap::during([&] { impl = new Impl(d); });
  auto once = [&] {
    if constexpr (Infer)
      return impl->infer();
    else
      return impl->step();
  };
  for (int i = 0; i < 2 && per_count > 1; ++i) benchmark::DoNotOptimize(once());  // warm-up
  const auto steps = bench::heap::during([&] {
    for (int i = 0; i < per_count; ++i) benchmark::DoNotOptimize(once());
  });
  for (auto _ : state) benchmark::DoNotOptimize(once());
  state.counters["allocs_per_step"] = double(steps.allocations) / per_count;
  state.counters["bytes_per_step"] = double(steps.bytes) / per_count;
  state.counters["setup_bytes"] = double(setup.bytes);
  delete impl;
}

template <class C>
void add(const std::string& kind, const std::string& impl, void (*fn)(benchmark::State&, int), int per_count = 8) {
  benchmark::RegisterBenchmark((kind + "/" + C::name() + "/" + impl).c_str(), fn, per_count)
      ->Unit(benchmark::kMicrosecond);
}

template <class Act, int Batch, class W>
void configure(bool numerical) {
  using C = Config<Act, Batch, W>;
  // The reference: tapeless's gradients at the initial weights.
  const std::vector<float> reference = [] {
    TapelessTrain<C, Batch> t(C::data());
    return t.gradients();
  }();
  check_gradients<TapelessTrain<C, runtime>, C>("tapeless_dynamic", reference, 1e-6);
  check_gradients<Handwritten<C>, C>("handwritten", reference, 1e-4);
  check_gradients<Tape<C>, C>("tape", reference, 1e-4);
#if TAPELESS_BENCH_TORCH
  check_gradients<Torch<C>, C>("libtorch", reference, 1e-4);
#endif
  // Float central differences carry a rounding error of about ulp(loss) / eps, which is a few
  // percent of the largest gradient at batch 32: this check only shows they estimate the same thing.
  if (numerical) check_gradients<Numerical<C>, C>("numerical", reference, 1e-1);

  add<C>("train", "tapeless_fixed", run<TapelessTrain<C, Batch>, C, false>);
  add<C>("train", "tapeless_dynamic", run<TapelessTrain<C, runtime>, C, false>);
  add<C>("train", "handwritten", run<Handwritten<C>, C, false>);
  add<C>("train", "tape", run<Tape<C>, C, false>);
#if TAPELESS_BENCH_TORCH
  add<C>("train", "libtorch", run<Torch<C>, C, false>);
#endif
  if (numerical) add<C>("train", "numerical", run<Numerical<C>, C, false>, 1);

  add<C>("infer", "tapeless_fixed", run<TapelessInfer<C, Batch>, C, true>);
  add<C>("infer", "tapeless_dynamic", run<TapelessInfer<C, runtime>, C, true>);
  add<C>("infer", "handwritten", run<Handwritten<C>, C, true>);
  add<C>("infer", "tape", run<Tape<C>, C, true>);
#if TAPELESS_BENCH_TORCH
  add<C>("infer", "libtorch", run<Torch<C>, C, true>);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  std::fprintf(stderr, "mlp_bench: checking every implementation's gradients against tapeless's\n");
  configure<UseRelu, 1, Widths<4, 16, 16, 3>>(true);
  configure<UseRelu, 32, Widths<4, 16, 16, 3>>(true);
  configure<UseRelu, 1, Widths<64, 64, 64, 10>>(true);
  configure<UseRelu, 32, Widths<64, 64, 64, 10>>(true);
  configure<UseRelu, 1, Widths<784, 128, 64, 10>>(false);
  configure<UseRelu, 32, Widths<784, 128, 64, 10>>(false);
  configure<UseRelu, 128, Widths<784, 128, 64, 10>>(false);
  configure<UseSigmoid, 32, Widths<784, 128, 64, 10>>(false);
  configure<UseRelu, 128, Widths<784, 256, 10>>(false);
#if TAPELESS_BENCH_TORCH
  benchmark::AddCustomContext("libtorch", bench::TorchMlp::version());
#else
  benchmark::AddCustomContext("libtorch", "not built (libtorch not found at configure time)");
#endif
#if defined(NDEBUG) && defined(__OPTIMIZE__)
  benchmark::AddCustomContext("mlp_bench_build", "optimized");
#else
  benchmark::AddCustomContext("mlp_bench_build", "NOT OPTIMIZED: timings are meaningless");
  std::fprintf(stderr, "mlp_bench: built without optimization or with assertions; timings are meaningless\n");
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
