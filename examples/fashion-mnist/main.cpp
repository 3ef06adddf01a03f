// The main job: train a 784-256-10 ReLU MLP on Fashion-MNIST (Debian's dataset-fashion-mnist)
// with Adam, each batch split over every core (ParallelTrainer), and print the test accuracy.
//
//   fashion_mnist [--epochs 10] [--batch 64] [--lr 0.001] [--seed 1] [--limit N]   (--help: all)
//                 [--threads N]                     (default: every core; 1: one core)
//                 [--precision float|bf16]         bf16: mixed precision (bfloat16 activations)
//                 [--data /usr/share/datasets/fashion-mnist] [--csv fashion_mnist.csv]
//                 [--save model.safetensors]        save the trained model (PyTorch layout)
//                 [--save-init init.safetensors]    save the initial weights (bench/fashion_mnist_torch.py
//                                                   --init starts PyTorch from them)
//   (the CSV has one row per epoch: loss, accuracies, seconds, and each parameter's gradient norm
//   averaged over the epoch; examples/fashion-mnist/plot.py draws it)
//   fashion_mnist --load model.safetensors          evaluate a saved model on the test set
//
// Every option is parsed whole and checked before the data are read; the --save, --save-init and
// --csv destinations are checked before training. Exit status: 0 done, 1 a failure (named), 2 a bad
// command line.
#include "tapeless/io/idx.hpp"
#include "tapeless/io/safetensors.hpp"
#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/mse.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/gather.hpp"
#include "tapeless/network/network.hpp"
#include "tapeless/network/parallel_trainer.hpp"
#include "tapeless/network/trainer.hpp"
#include "tapeless/optim/adam.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <new>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

using namespace tapeless;

namespace {

struct Options {
  int epochs = 10;
  Index batch = 64;
  double lr = 1e-3;
  std::uint64_t seed = 1;
  Index limit = 0;  // 0: every training image
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::string csv = "fashion_mnist.csv";
  std::string save;       // where to save the trained model ("" : do not)
  std::string load;       // a model to evaluate instead of training one
  std::string save_init;  // where to save the initial weights ("" : do not)
  bool bf16 = false;      // activations in bfloat16 (Mixed<Eigen::bfloat16>), weights in float
};

/// A bad command line: the message and where to find the options on stderr, exit status 2.
[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "fashion_mnist: " << problem << "\nRun with --help for the options.\n";
  std::exit(2);
}

/// The whole of `text` as a T (an integer or a double), in decimal: a prefix ("1x", "1.9" for an
/// integer), a sign on an unsigned value or an out-of-range value is refused.
template <class T>
T whole(const std::string& flag, const std::string& text) {
  T value{};
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) usage("bad value '" + text + "' for " + flag);
  return value;
}

// The command line, parsed by CLI11 (--help lists every option with its default); the values are
// read as text and converted strictly here, so that "1.9" is not a batch of 1.
Options parse(int argc, char** argv) {
  Options o;
  CLI::App app(
      "Trains a 784-256-10 ReLU MLP with Adam on Fashion-MNIST, on every core, and prints its test "
      "accuracy; or, with --load, evaluates a saved model.",
      "fashion_mnist");
  std::string epochs = std::to_string(o.epochs), batch = std::to_string(o.batch), lr = "0.001",
              seed = std::to_string(o.seed), limit = std::to_string(o.limit), threads = std::to_string(o.threads);
  app.add_option("--epochs", epochs, "passes over the training set (>= 1)")->capture_default_str()->type_name("N");
  app.add_option("--batch", batch, "samples per step (>= 1)")->capture_default_str()->type_name("N");
  app.add_option("--lr", lr, "Adam's learning rate (finite, > 0)")->capture_default_str()->type_name("X");
  app.add_option("--seed", seed, "initial weights and shuffling")->capture_default_str()->type_name("N");
  app.add_option("--limit", limit, "train on the first N images only (0: all)")->capture_default_str()->type_name("N");
  app.add_option("--threads", threads, "threads each batch is split over (>= 1; default: every core)")
      ->capture_default_str()
      ->type_name("N");
  app.add_option("--data", o.data, "directory of the IDX files (Debian's dataset-fashion-mnist)")
      ->capture_default_str()
      ->type_name("DIR");
  app.add_option("--csv", o.csv,
                 "the learning curve, one row per epoch: loss, accuracies, gradient norms (plot.py draws it)")
      ->capture_default_str()
      ->type_name("FILE");
  app.add_option("--save", o.save, "save the trained model (safetensors, PyTorch layout)")->type_name("FILE");
  app.add_option("--save-init", o.save_init,
                 "save the initial weights before training (safetensors, PyTorch layout; "
                 "bench/fashion_mnist_torch.py --init starts from them)")
      ->type_name("FILE");
  app.add_option("--load", o.load, "evaluate this saved model on the test set instead of training")->type_name("FILE");
  std::string precision = "float";
  app.add_option("--precision", precision,
                 "float, or bf16: activations and their adjoints kept in bfloat16 over float weights "
                 "(mixed precision)")
      ->capture_default_str()
      ->type_name("P");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    std::exit(0);
  } catch (const CLI::ParseError& e) {
    usage(e.what());
  }
  o.epochs = whole<int>("--epochs", epochs);
  o.batch = whole<Index>("--batch", batch);
  o.lr = whole<double>("--lr", lr);
  o.seed = whole<std::uint64_t>("--seed", seed);
  o.limit = whole<Index>("--limit", limit);
  o.threads = whole<int>("--threads", threads);
  if (o.epochs < 1) usage("--epochs must be at least 1");
  if (o.batch < 1) usage("--batch must be at least 1");
  if (!std::isfinite(o.lr) || o.lr <= 0) usage("--lr must be a finite number > 0");
  if (o.limit < 0) usage("--limit must be 0 (all) or positive");
  if (o.threads < 1) usage("--threads must be at least 1");
  if (!o.load.empty() && (!o.save.empty() || !o.save_init.empty()))
    usage("--save and --save-init save a model this run trains: not with --load");
  if (precision != "float" && precision != "bf16") usage("--precision must be float or bf16, not '" + precision + "'");
  o.bf16 = precision == "bf16";
  return o;
}

struct Dataset {
  Eigen::Matrix<float, Eigen::Dynamic, 784, Eigen::RowMajor> images;  // scaled to [0, 1]
  std::vector<int> labels;
};

// Asks Linux to back [p, p + bytes) with 2 MB pages (transparent huge pages), before it is first
// written: numpy does the same for every large array, so PyTorch's data have them. Each step
// gathers 64 random rows of 3 KB out of 188 MB: with 4 KB pages nearly every row is a TLB miss,
// and on the virtual machine of bench/analysis.md (stop 29) the first read of every 4 KB page
// after a large free was slow, which made the first epoch 1.7x the others. Advice only: where
// the kernel declines (transparent huge pages off), nothing changes.
void advise_huge_pages([[maybe_unused]] void* p, [[maybe_unused]] std::size_t bytes) {
#if defined(MADV_HUGEPAGE)
  constexpr std::size_t huge = std::size_t{1} << 21;
  const std::size_t head = (huge - reinterpret_cast<std::uintptr_t>(p) % huge) % huge;  // to the first 2 MB boundary
  if (bytes >= head + huge) (void)madvise(static_cast<char*>(p) + head, (bytes - head) / huge * huge, MADV_HUGEPAGE);
#endif
}

Dataset load(const std::string& dir, const std::string& prefix) {
  const IdxData images = read_idx_images(dir + "/" + prefix + "-images-idx3-ubyte.gz", 28, 28);
  const IdxData labels = read_idx_labels(dir + "/" + prefix + "-labels-idx1-ubyte.gz", 10);
  if (images.dims[0] != labels.dims[0])
    throw idx_error("tapeless: " + dir + ": " + prefix + " has " + std::to_string(images.dims[0]) + " images but " +
                    std::to_string(labels.dims[0]) + " labels");
  Dataset d;
  d.images.resize(images.dims[0], 784);
  advise_huge_pages(d.images.data(), static_cast<std::size_t>(d.images.size()) * sizeof(float));
  for (Index i = 0; i < d.images.rows(); ++i)
    for (Index j = 0; j < 784; ++j)
      d.images(i, j) = static_cast<float>(images.bytes[static_cast<std::size_t>(i * 784 + j)]) / 255.0f;
  d.labels.assign(labels.bytes.begin(), labels.bytes.end());
  return d;
}

using Mlp = Sequential<Linear<784, 256>, ReLU, Linear<256, 10>>;
using Net = Network<Mlp, float>;
template <class Precision>
using Train = Trainer<Net, SoftmaxCrossEntropy<>, dynamic, Precision>;  // evaluation
template <class Precision>
using ParallelTrain = ParallelTrainer<Net, SoftmaxCrossEntropy<>, dynamic, Precision>;  // training

// Copies rows `order[first, first + n)` of the data set into the trainer's batch. The data set is
// row-major and the batch column-major: gather_rows transposes a packet-square block at a time
// (5.0 us a batch of 64, against 12.6 through a row-major staging copy and 27 row by row).
template <class ParallelTrain>
void fill(ParallelTrain& t, const Dataset& d, const std::vector<Index>& order, Index first, Index n) {
  if (t.inputs().rows() != n) {
    t.inputs().resize(n);
    t.targets().resize(n);
  }
  const std::span<const Index> rows(order.data() + first, static_cast<std::size_t>(n));
  gather_rows(t.inputs(), d.images, rows);
  for (Index r = 0; r < n; ++r)
    t.targets()(r, 0) = d.labels[static_cast<std::size_t>(rows[static_cast<std::size_t>(r)])];
}

template <class ParallelTrain>
Index correct(const Eigen::Matrix<float, Eigen::Dynamic, 10>& logits, const ParallelTrain& t) {
  Index hits = 0;
  for (Index r = 0; r < logits.rows(); ++r) {
    Index best = 0;
    logits.row(r).maxCoeff(&best);
    hits += best == t.targets()(r, 0);
  }
  return hits;
}

// The test set's accuracy: forward passes only, through the trainer's own programs.
template <class Train>
double accuracy(Train& t, const Dataset& d) {
  const Eigen::Map<const Eigen::VectorXi> labels(d.labels.data(), static_cast<Index>(d.labels.size()));
  return t.evaluate(d.images, labels).accuracy;
}

// Refuses a data set with no images (an empty file would otherwise divide by zero).
void require_images(const Dataset& d, const std::string& dir, const std::string& prefix) {
  if (d.labels.empty()) throw idx_error("tapeless: " + dir + ": the " + prefix + " set holds no images");
}

template <class Precision>
int run(const Options& o) {
  // everything that can be checked before hours of training is checked first
  std::ofstream csv;
  if (o.load.empty()) {
    for (const std::pair<const char*, std::string>& destination :
         {std::pair<const char*, std::string>{"--save", o.save}, {"--save-init", o.save_init}})
      if (!destination.second.empty())
        detail::check_writable(destination.second, [&](const std::string& what) {
          return safetensors_error(std::string("fashion_mnist: ") + destination.first + " " + destination.second +
                                   ": " + what);
        });
    csv.open(o.csv);
    if (!csv)
      throw std::runtime_error("fashion_mnist: cannot write the CSV file " + o.csv + " (" + std::strerror(errno) + ")");
  }
  Dataset train, test;
  train = load(o.data, "train");
  test = load(o.data, "t10k");
  if (o.load.empty()) require_images(train, o.data, "train");
  require_images(test, o.data, "t10k (test)");
  if (!o.load.empty()) {  // evaluate a saved model
    Net net(o.seed);
    load_safetensors(net, o.load);
    Train<Precision> evaluator(net, 1000);
    std::printf("loaded %s\ntest accuracy: %.2f%%\n", o.load.c_str(), 100 * accuracy(evaluator, test));
    return 0;
  }
  const Index n = o.limit > 0 ? std::min<Index>(o.limit, train.images.rows()) : train.images.rows();
  if (o.batch > n)
    usage("--batch " + std::to_string(o.batch) + " is larger than the " + std::to_string(n) + " training images");
  std::cout << "Fashion-MNIST: " << n << " training and " << test.labels.size()
            << " test images; 784-256-10 ReLU MLP, Adam lr " << o.lr << ", batch " << o.batch << ", seed " << o.seed
            << ", " << o.threads << (o.threads == 1 ? " thread" : " threads")
            << (o.bf16 ? ", bfloat16 activations" : "") << "\n";

  Net net(o.seed, Init::he);
  if (!o.save_init.empty()) {
    save_safetensors(net, o.save_init, {},
                     {{"model", "784-256-10 ReLU MLP"}, {"init", "he, seed " + std::to_string(o.seed)}});
    std::printf("saved the initial weights to %s\n", o.save_init.c_str());
  }
  Train<Precision> evaluator(net, 1000);  // the test set's forward passes, 1000 rows at a time
  ParallelTrain<Precision> trainer(net, o.threads, o.batch);
  Adam optimizer(net, {.lr = o.lr});
  Rng shuffle(o.seed + 1);
  // the CSV: one row per epoch; besides loss and accuracy, each parameter's gradient norm averaged
  // over the epoch's steps (the notes' stability diagnosis, drawn by plot.py on a log scale)
  csv << "epoch,train_loss,train_accuracy,test_accuracy,seconds";
  for (const ParameterInfo& p : net.parameters()) csv << ",grad_norm:" << p.name;
  csv << '\n';
  std::vector<double> norm_sums(net.parameters().size());
  const bool tty = isatty(STDOUT_FILENO);
  std::vector<Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Index{0});

  double test_accuracy = 0;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    for (std::size_t i = order.size() - 1; i > 0; --i)  // Fisher-Yates with the portable Rng
      std::swap(order[i], order[shuffle.below(i + 1)]);
    const auto start = std::chrono::steady_clock::now();
    double loss_sum = 0;
    Index hits = 0, seen = 0, skipped = 0, steps = 0;
    std::string first_skip;
    std::fill(norm_sums.begin(), norm_sums.end(), 0.0);
    auto mean_loss = [&] { return loss_sum / static_cast<double>(std::max<Index>(seen, 1)); };
    auto train_accuracy = [&] { return static_cast<double>(hits) / static_cast<double>(std::max<Index>(seen, 1)); };
    const Index batches = (n + o.batch - 1) / o.batch;
    for (Index b = 0; b < batches; ++b) {
      const Index rows = std::min<Index>(o.batch, n - b * o.batch);
      fill(trainer, train, order, b * o.batch, rows);
      const StepResult r = trainer.step(optimizer);
      if (!r.ok()) {
        if (skipped++ == 0) first_skip = trainer.explain(r);  // where, while the gradients are there
        continue;
      }
      loss_sum += r.loss * static_cast<double>(rows);
      const std::vector<GradientNorm> norms = gradient_norms(net);  // the step's gradients, still in place
      for (std::size_t k = 0; k < norm_sums.size(); ++k) norm_sums[k] += norms[k].norm;
      ++steps;
      hits += correct(trainer.output(), trainer);  // the step's own logits: no second forward pass
      seen += rows;
      if (tty && (b % 20 == 0 || b + 1 == batches)) {
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const int width = 30, done = static_cast<int>(width * (b + 1) / batches);
        std::printf("\repoch %2d/%d [%s%s] loss %.4f acc %.4f %7.0f samples/s", epoch, o.epochs,
                    std::string(static_cast<std::size_t>(done), '=').c_str(),
                    std::string(static_cast<std::size_t>(width - done), ' ').c_str(), mean_loss(), train_accuracy(),
                    static_cast<double>(seen) / secs);
        std::fflush(stdout);
      }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    test_accuracy = accuracy(evaluator, test);
    if (tty) std::printf("\r%*s\r", 100, "");
    std::printf(
        "epoch %2d/%d  loss %.4f  train acc %.4f  test acc %.4f  %.1f s/epoch  %.0f samples/s%s\n", epoch, o.epochs,
        mean_loss(), train_accuracy(), test_accuracy, secs, static_cast<double>(seen) / secs,
        skipped ? (" (" + std::to_string(skipped) + " non-finite steps skipped; the first: " + first_skip + ")").c_str()
                : "");
    csv << epoch << ',' << mean_loss() << ',' << train_accuracy() << ',' << test_accuracy << ',' << secs;
    for (double sum : norm_sums) csv << ',' << sum / static_cast<double>(std::max<Index>(steps, 1));
    csv << '\n';
  }
  std::printf("test accuracy: %.2f%%\n", 100 * test_accuracy);
  if (!o.save.empty()) {
    // refuses non-finite weights itself, and leaves a previous file as it was on any failure
    save_safetensors(net, o.save, {}, {{"model", "784-256-10 ReLU MLP"}, {"trained_by", "tapeless"}});
    std::printf("saved %s\n", o.save.c_str());
  }
  return 0;
}

}  // namespace

// Every failure is a message and exit status 1 (2 for a bad command line), never an abort.
int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  try {
    return o.bf16 ? run<Mixed<Eigen::bfloat16>>(o) : run<FullPrecision>(o);
  } catch (const std::bad_alloc&) {
    std::cerr << "fashion_mnist: out of memory\n";
  } catch (const std::exception& e) {
    std::cerr << e.what() << '\n';
  }
  return 1;
}
