// One MLP training step (forward, loss, backward, plain SGD) and one inference on one core, by
// every implementation side by side in one run. Softmax cross-entropy on class labels in float32
// for most configurations; SimpleChains.jl's example (24-8-2, tanh, MSE, float64, batch 200)
// against the hand-written code only.
//
//   tapeless_fixed    Trainer / Predictor with the batch size in the type
//   tapeless_dynamic  the same with the batch size chosen at run time
//   handwritten       baselines/handwritten.hpp: backprop written by hand in Eigen
//   tape              baselines/tape.hpp: a minimal run-time tape over the same Eigen kernels
//   libtorch          baselines/torch_mlp.cpp: torch::nn + autograd + torch::optim::SGD (if built)
//   numerical         central differences over every parameter (training, smallest nets only)
//
// Names are <train|infer>/<widths>/<activation>[-mse][-f64]/b<batch>/<implementation>. Every
// benchmark also reports, as counters, heap allocations and bytes per step (counted over several
// steps outside the timed loop) and the bytes allocated to set it up. Before any timing, every
// implementation's gradients are checked against tapeless's on the same weights and data; a
// mismatch aborts. peak/fma/<f32|f64> measures one core's multiply-add peak, which the report
// divides each configuration's FLOPs per second by. parallel/<config>/<trainer|threadsN> times
// a Trainer against a ParallelTrainer on every core (bench/run runs these unpinned).
// taps/<config>/<untapped|tapped|hooked> times the step with every activation tapped
// (layers/tap.hpp), and with a hook on each tap, against the untapped step.
// checkpoint/<net>/<plain|per_block|per_segment4> times a deep residual MLP's step without and
// with checkpoints (layers/checkpoint.hpp), with the activation bytes each keeps;
// mixed/<net>/<float|bf16|f16> the same net's step with float, bfloat16 and binary16 activations
// (network/precision.hpp).
#include "baselines/handwritten.hpp"
#include "baselines/tape.hpp"
#include "support/heap_counter.hpp"
#if TAPELESS_BENCH_TORCH
#include "baselines/torch_mlp.hpp"
#endif

#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/checkpoint.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/layers/tap.hpp"
#include "tapeless/losses/mse.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/parallel_trainer.hpp"
#include "tapeless/network/predictor.hpp"
#include "tapeless/network/trainer.hpp"
#include "tapeless/optim/sgd.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <random>
#include <ratio>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

using bench::Widths;
constexpr int runtime = tapeless::dynamic;
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
struct UseTanh {  // tapeless and hand-written only: the tape and libtorch baselines are softmax-CE in float
  using layer = tapeless::Tanh;
  using hand = bench::Tanh;
  static constexpr const char* name = "tanh";
};

/// The loss: softmax cross-entropy on class labels (every implementation), or MSE on targets
/// (tapeless and hand-written).
struct UseSoftmaxCe {
  using loss = tapeless::SoftmaxCrossEntropy<>;
  template <class S, bool Fixed, int Batch, int Out>
  using hand = bench::SoftmaxCe<S, Fixed, Batch, Out>;
  static constexpr const char* suffix = "";
};
struct UseMse {
  using loss = tapeless::MSE;
  template <class S, bool Fixed, int Batch, int Out>
  using hand = bench::Mse<S, Fixed, Batch, Out>;
  static constexpr const char* suffix = "-mse";
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

/// One configuration: widths, activation, batch, scalar type and loss. Everything is derived from it.
template <class Act, int Batch, class W, class S = float, class Loss = UseSoftmaxCe>
struct Config {
  using scalar = S;
  using net_type = tapeless::Network<typename tapeless_mlp<Act, W>::type, S>;
  template <int B>
  using trainer_type = tapeless::Trainer<net_type, typename Loss::loss, B>;
  template <int B>
  using predictor_type = tapeless::Predictor<net_type, B>;
  using hand_type = bench::HandMlp<S, typename Act::hand, Batch, W, Loss::template hand>;
  using tape_type = bench::tape::TapeMlp<float>;
  using act = Act;
  static constexpr int batch = Batch;
  static constexpr int in = net_type::in;
  static constexpr int out = net_type::out;
  static constexpr bool mse = std::is_same_v<Loss, UseMse>;
  /// The tape, libtorch and the numerical gradient are set up for softmax-CE in float.
  static constexpr bool all_baselines = std::is_same_v<S, float> && !mse;
  static constexpr S learning_rate = S(0.01);

  static std::vector<int> widths() { return widths_of(W{}); }
  static std::string name() {
    std::string s;
    for (int w : widths()) s += (s.empty() ? "" : "-") + std::to_string(w);
    return s + "/" + Act::name + Loss::suffix + (std::is_same_v<S, double> ? "-f64" : "") + "/b" +
           std::to_string(Batch);
  }

  /// The same data for every implementation: inputs uniform in [-1, 1], random labels, and
  /// targets uniform in [-1, 1] for MSE.
  struct Data {
    std::vector<S> x;  // batch x in, column-major
    std::vector<int> labels;
    std::vector<S> targets;  // batch x out, column-major
  };
  static Data data() {
    std::mt19937 rng(1234);
    std::uniform_real_distribution<S> u(-1, 1);
    std::uniform_int_distribution<int> label(0, out - 1);
    Data d{std::vector<S>(std::size_t{Batch} * in), std::vector<int>(Batch), std::vector<S>(std::size_t{Batch} * out)};
    for (auto& v : d.x) v = u(rng);
    for (auto& l : d.labels) l = label(rng);
    for (auto& v : d.targets) v = u(rng);
    return d;
  }
  using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  static Eigen::Map<const Matrix> x_of(const Data& d) { return {d.x.data(), Batch, in}; }
  static Eigen::Map<const Matrix> targets_of(const Data& d) { return {d.targets.data(), Batch, out}; }
};

// ---- the implementations, set up on the same weights and data --------------------------------

/// Puts the configuration's batch (inputs, and labels or MSE targets) into a trainer.
template <class C, class T>
void load_batch(T& trainer, const typename C::Data& d) {
  trainer.inputs().value() = C::x_of(d);
  if constexpr (C::mse)
    trainer.targets().value() = C::targets_of(d);
  else
    for (int r = 0; r < C::batch; ++r) trainer.targets()(r, 0) = d.labels[static_cast<std::size_t>(r)];
}

template <class C, int B>
struct TapelessTrain {
  using S = typename C::scalar;
  typename C::net_type net{seed};
  typename C::template trainer_type<B> trainer{net, C::batch};
  tapeless::Sgd<S> sgd{net, tapeless::SgdOptions{C::learning_rate}};
  explicit TapelessTrain(const typename C::Data& d) { load_batch<C>(trainer, d); }
  S step() { return static_cast<S>(trainer.step(sgd).loss); }
  std::vector<S> gradients() {
    trainer.compute();
    return {net.gradients().data(), net.gradients().data() + net.gradients().size()};
  }
};

template <class C, int B>
struct TapelessInfer {
  typename C::net_type net{seed};
  typename C::template predictor_type<B> predictor{net, C::batch};
  explicit TapelessInfer(const typename C::Data& d) { predictor.inputs().value() = C::x_of(d); }
  typename C::scalar infer() { return predictor()(0, 0); }
};

template <class C>
struct Handwritten {
  typename C::hand_type mlp{C::batch};
  explicit Handwritten(const typename C::Data& d) {
    bench::load_parameters(mlp, typename C::net_type{seed}.values().data());  // tapeless's initial weights
    mlp.x = C::x_of(d);
    if constexpr (C::mse)
      mlp.labels = C::targets_of(d);
    else
      mlp.labels = d.labels;
  }
  typename C::scalar step() { return mlp.step(C::learning_rate); }
  typename C::scalar infer() { return mlp.infer()(0, 0); }
  std::vector<typename C::scalar> gradients() {
    mlp.compute();
    return bench::flat_gradients(mlp);
  }
};

template <class C>
struct Numerical : Handwritten<C> {
  static constexpr float eps = 1e-3f;
  using Handwritten<C>::Handwritten;
  float step() { return bench::numerical_step(this->mlp, eps, C::learning_rate); }
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
  float step() { return mlp.step(C::learning_rate); }
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
            C::learning_rate) {}
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
template <class S>
double deviation(const std::vector<S>& a, const std::vector<S>& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::abs(double(b[i])));
  }
  return worst / std::max(scale, 1e-30);
}

template <class Impl, class C>
void check_gradients(const char* impl, const std::vector<typename C::scalar>& reference, double tolerance) {
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

template <class Act, int Batch, class W, class S = float, class Loss = UseSoftmaxCe>
void configure(bool numerical) {
  using C = Config<Act, Batch, W, S, Loss>;
  // The reference: tapeless's gradients at the initial weights.
  const std::vector<S> reference = [] {
    TapelessTrain<C, Batch> t(C::data());
    return t.gradients();
  }();
  check_gradients<TapelessTrain<C, runtime>, C>("tapeless_dynamic", reference, 1e-6);
  check_gradients<Handwritten<C>, C>("handwritten", reference, 1e-4);
  if constexpr (C::all_baselines) {
    check_gradients<Tape<C>, C>("tape", reference, 1e-4);
#if TAPELESS_BENCH_TORCH
    check_gradients<Torch<C>, C>("libtorch", reference, 1e-4);
#endif
    // Float central differences carry a rounding error of about ulp(loss) / eps, which is a few
    // percent of the largest gradient at batch 32: this check only shows they estimate the same thing.
    if (numerical) check_gradients<Numerical<C>, C>("numerical", reference, 1e-1);
  }

  add<C>("train", "tapeless_fixed", run<TapelessTrain<C, Batch>, C, false>);
  add<C>("train", "tapeless_dynamic", run<TapelessTrain<C, runtime>, C, false>);
  add<C>("train", "handwritten", run<Handwritten<C>, C, false>);
  if constexpr (C::all_baselines) {
    add<C>("train", "tape", run<Tape<C>, C, false>);
#if TAPELESS_BENCH_TORCH
    add<C>("train", "libtorch", run<Torch<C>, C, false>);
#endif
    if (numerical) add<C>("train", "numerical", run<Numerical<C>, C, false>, 1);
  }

  add<C>("infer", "tapeless_fixed", run<TapelessInfer<C, Batch>, C, true>);
  add<C>("infer", "tapeless_dynamic", run<TapelessInfer<C, runtime>, C, true>);
  add<C>("infer", "handwritten", run<Handwritten<C>, C, true>);
  if constexpr (C::all_baselines) {
    add<C>("infer", "tape", run<Tape<C>, C, true>);
#if TAPELESS_BENCH_TORCH
    add<C>("infer", "libtorch", run<Torch<C>, C, true>);
#endif
  }
}

// ---- data-parallel training ------------------------------------------------------------------

/// The machine's cores: the threads of the data-parallel cells.
int cores() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

/// A ParallelTrainer on every core, from the same weights and data.
template <class C>
struct TapelessParallel {
  typename C::net_type net{seed};
  tapeless::ParallelTrainer<typename C::net_type, tapeless::SoftmaxCrossEntropy<>, C::batch> trainer{net, cores()};
  tapeless::Sgd<float> sgd{net, tapeless::SgdOptions{C::learning_rate}};
  explicit TapelessParallel(const typename C::Data& d) { load_batch<C>(trainer, d); }
  float step() { return static_cast<float>(trainer.step(sgd).loss); }
  std::vector<float> gradients() {
    trainer.compute();
    return {net.gradients().data(), net.gradients().data() + net.gradients().size()};
  }
};

/// parallel/<config>/trainer (one thread) and parallel/<config>/threads<N>, N the machine's
/// cores: bench/run times these without pinning, apart from the one-core run.
template <int Batch, class W>
void configure_parallel() {
  using C = Config<UseRelu, Batch, W>;
  const std::vector<float> reference = TapelessTrain<C, Batch>(C::data()).gradients();
  check_gradients<TapelessParallel<C>, C>("tapeless_parallel", reference, 1e-5);
  benchmark::RegisterBenchmark(("parallel/" + C::name() + "/trainer").c_str(), run<TapelessTrain<C, Batch>, C, false>,
                               8)
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark(("parallel/" + C::name() + "/threads" + std::to_string(cores())).c_str(),
                               run<TapelessParallel<C>, C, false>, 8)
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
}

// ---- taps ------------------------------------------------------------------------------------

/// TapelessTrain on the configuration's network with every activation tapped (layers/tap.hpp);
/// with `Hook`, a hook on each tap takes its gradient's norm during backward.
template <class C, bool Hook>
struct TapelessTapped {
  using S = typename C::scalar;
  using net_type = tapeless::tap_every_t<typename C::act::layer, typename C::net_type>;
  net_type net{seed};
  tapeless::Trainer<net_type, tapeless::SoftmaxCrossEntropy<>, C::batch> trainer{net, C::batch};
  tapeless::Sgd<S> sgd{net, tapeless::SgdOptions{C::learning_rate}};
  double norms = 0;
  explicit TapelessTapped(const typename C::Data& d) {
    load_batch<C>(trainer, d);
    if constexpr (Hook) trainer.on_tap([this](const tapeless::TapView<S>& t) { norms += t.gradient().norm(); });
  }
  S step() { return static_cast<S>(trainer.step(sgd).loss); }
  std::vector<S> gradients() {
    trainer.compute();
    return {net.gradients().data(), net.gradients().data() + net.gradients().size()};
  }
};

/// taps/<config>/<untapped|tapped|hooked>: the same training step without taps, with every
/// activation tapped, and with a hook on each tap. A tap computes nothing: the gradients must be
/// tapeless's to the bit.
template <int Batch, class W>
void configure_taps() {
  using C = Config<UseRelu, Batch, W>;
  const std::vector<float> reference = TapelessTrain<C, Batch>(C::data()).gradients();
  check_gradients<TapelessTapped<C, false>, C>("tapeless_tapped", reference, 0);
  check_gradients<TapelessTapped<C, true>, C>("tapeless_hooked", reference, 0);
  add<C>("taps", "untapped", run<TapelessTrain<C, Batch>, C, false>);
  add<C>("taps", "tapped", run<TapelessTapped<C, false>, C, false>);
  add<C>("taps", "hooked", run<TapelessTapped<C, true>, C, false>);
}

// ---- checkpoints -------------------------------------------------------------------------------

/// A deep residual MLP: 64 inputs, 16 residual blocks of 256 (Linear + ReLU, branch scale 1/4),
/// 10 classes, batch 128, float; plain, checkpointed per block, and per segment of four blocks.
namespace deep {
using tapeless::Checkpoint;
using tapeless::Linear;
using tapeless::ReLU;
using tapeless::Sequential;
using Block = tapeless::Residual<Sequential<Linear<256, 256>, ReLU>, std::ratio<1, 4>>;
template <class B>
using Stack16 = Sequential<Linear<64, 256>, ReLU, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, Linear<256, 10>>;
template <class G>
using Stack4 = Sequential<Linear<64, 256>, ReLU, G, G, G, G, Linear<256, 10>>;
using Plain = tapeless::Network<Stack16<Block>>;
using PerBlock = tapeless::Network<Stack16<Checkpoint<Block>>>;
using PerSegment = tapeless::Network<Stack4<Checkpoint<Sequential<Block, Block, Block, Block>>>>;
constexpr int batch = 128;

template <class Net, class Precision = tapeless::FullPrecision>
struct Train {
  using trainer_type = tapeless::Trainer<Net, tapeless::SoftmaxCrossEntropy<>, batch, Precision>;
  Net net{seed};
  trainer_type trainer{net};
  tapeless::Sgd<float> sgd{net, tapeless::SgdOptions{0.01}};
  Train() {
    std::mt19937 rng(99);
    std::uniform_real_distribution<float> u(-1, 1);
    for (int j = 0; j < 64; ++j)
      for (int i = 0; i < batch; ++i) trainer.inputs()(i, j) = u(rng);
    for (int i = 0; i < batch; ++i) trainer.targets()(i, 0) = i % 10;
  }
  float step() { return static_cast<float>(trainer.step(sgd).loss); }
};

/// checkpoint/<net>/<plain|per_block|per_segment4>: the step, its heap use and the activation
/// bytes the Trainer's type gives.
template <class Net, class Precision = tapeless::FullPrecision>
void step(benchmark::State& state) {
  auto t = std::make_unique<Train<Net, Precision>>();
  for (int i = 0; i < 2; ++i) benchmark::DoNotOptimize(t->step());
  const auto steps = bench::heap::during([&] {
    for (int i = 0; i < 4; ++i) benchmark::DoNotOptimize(t->step());
  });
  for (auto _ : state) benchmark::DoNotOptimize(t->step());
  state.counters["allocs_per_step"] = double(steps.allocations) / 4;
  state.counters["activation_bytes"] = double(Train<Net, Precision>::trainer_type::activation_bytes());
}

/// The checkpointed nets' gradients equal the plain net's to the bit (a checkpoint recomputes
/// with the same operations), or mlp_bench stops.
void configure() {
  Train<Plain> plain;
  Train<PerBlock> per_block;
  Train<PerSegment> per_segment;
  plain.trainer.compute();
  per_block.trainer.compute();
  per_segment.trainer.compute();
  const bool same =
      plain.net.gradients() == per_block.net.gradients() && plain.net.gradients() == per_segment.net.gradients();
  std::fprintf(stderr, "  %-18s %-28s gradients %s the plain net's\n", "checkpointed", "64-256x16-10/relu/b128",
               same ? "equal to the bit" : "DIFFER from");
  if (!same) std::exit(1);
  for (auto [name, fn] : {std::pair{"plain", &step<Plain>}, std::pair{"per_block", &step<PerBlock>},
                          std::pair{"per_segment4", &step<PerSegment>}})
    benchmark::RegisterBenchmark((std::string("checkpoint/64-256x16-10/relu-residual/b128/") + name).c_str(), fn)
        ->Unit(benchmark::kMicrosecond);

  // mixed precision (network/precision.hpp): the same net with bfloat16 and binary16 activations;
  // its gradients are the float net's to half precision, not to the bit
  using BF16 = tapeless::Mixed<Eigen::bfloat16>;
  using F16 = tapeless::Mixed<Eigen::half>;
  Train<Plain, BF16> bf16;
  Train<Plain, F16> f16;
  bf16.trainer.compute();
  f16.trainer.compute();
  const double scale = plain.net.gradients().norm();
  const double e_bf16 = (bf16.net.gradients() - plain.net.gradients()).norm() / scale;
  const double e_f16 = (f16.net.gradients() - plain.net.gradients()).norm() / scale;
  std::fprintf(stderr, "  %-18s %-28s gradients within %.2g (bf16) and %.2g (f16) of float's\n", "mixed precision",
               "64-256x16-10/relu/b128", e_bf16, e_f16);
  if (!(e_bf16 < 0.05 && e_f16 < 0.01)) std::exit(1);
  for (auto [name, fn] :
       {std::pair{"float", &step<Plain>}, std::pair{"bf16", &step<Plain, BF16>}, std::pair{"f16", &step<Plain, F16>}})
    benchmark::RegisterBenchmark((std::string("mixed/64-256x16-10/relu-residual/b128/") + name).c_str(), fn)
        ->Unit(benchmark::kMicrosecond);
}
}  // namespace deep

// ---- one core's multiply-add peak -----------------------------------------------------------

/// Multiply-adds per second one core sustains on the widest SIMD packet of S this build targets:
/// 12 independent chains of acc = acc * a + b (enough to hide the FMA latency on two ports), all
/// in registers. The report divides each configuration's FLOP count per step by its time and by
/// this peak. Counted as 2 FLOPs per multiply-add per lane.
template <class S>
void fma_peak(benchmark::State& state) {
  using P = typename Eigen::internal::packet_traits<S>::type;
  constexpr int lanes = Eigen::internal::packet_traits<S>::size;
  constexpr int chains = 12, rounds = 1000;
  const P a = Eigen::internal::pset1<P>(S(0.999999)), b = Eigen::internal::pset1<P>(S(1e-6));
  P acc[chains];
  for (int k = 0; k < chains; ++k) acc[k] = Eigen::internal::pset1<P>(S(k));
  for (auto _ : state) {
    for (int r = 0; r < rounds; ++r)
      for (int k = 0; k < chains; ++k) acc[k] = Eigen::internal::pmadd(acc[k], a, b);
    for (int k = 0; k < chains; ++k) benchmark::DoNotOptimize(acc[k]);
  }
  state.counters["flops"] =
      benchmark::Counter(double(state.iterations()) * rounds * chains * lanes * 2, benchmark::Counter::kIsRate);
  state.counters["lanes"] = lanes;
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
  // SimpleChains.jl's published example: 24-8-2, tanh, MSE, double, batch 200
  configure<UseTanh, 200, Widths<24, 8, 2>, double, UseMse>(false);
  configure_taps<1, Widths<4, 16, 16, 3>>();
  configure_taps<32, Widths<64, 64, 64, 10>>();
  configure_taps<32, Widths<784, 128, 64, 10>>();
  deep::configure();
  configure_parallel<64, Widths<784, 256, 10>>();
  configure_parallel<128, Widths<784, 256, 10>>();
  benchmark::RegisterBenchmark("peak/fma/f32", fma_peak<float>)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("peak/fma/f64", fma_peak<double>)->Unit(benchmark::kMicrosecond);
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
