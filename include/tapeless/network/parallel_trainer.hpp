/// @file
/// @brief `ParallelTrainer<Network, Loss, Batch, Precision>`: one training step split over N
/// threads (Precision as a Trainer's, but for `Mixed<Eigen::half>`), by hidden units or by rows.
///
/// **By hidden units** (network/hidden_split.hpp): a network of one hidden layer,
/// `Sequential<Linear<I, H>, F..., Linear<H, O>>` with F elementwise functions and H even, in full
/// precision on two threads (`splits_hidden_units()`). Thread p runs half the hidden units over
/// the whole batch, and computes and updates the gradients of its own weights only: W1's columns
/// and b1's coefficients of its units, W2's rows of them, and (thread 0) b2. After the forward
/// passes each thread adds the two outputs in order and takes the loss itself; only those outputs
/// (batch x O) cross between cores.
///
/// **By rows**, every other case: the batch (Batch rows, or `dynamic`) is cut into N contiguous
/// shards of nearly equal size (the first Batch % N one row longer; a batch of fewer than N rows
/// leaves the last threads idle). Each shard is a `Trainer` of its own rows whose gradients go to
/// its own buffer (shard 0's to the network's); after forward and backward each thread sums one
/// slice of the gradient vector over the shards, g = sum_k (n_k / B) g_k in shard order. The loss
/// is sum_k (n_k / B) L_k: the batch mean for every built-in loss, which averages over rows.
///
/// Either way the update is split too: each thread checks its parameters' update (Sgd), or
/// applies it while saving what it overwrites (Adam); then, at the next meeting, commits it if
/// every thread's passed (Sgd), or undoes it if any did not (Adam). That is `Trainer::step`'s
/// contract, split: a non-finite loss, gradient or update leaves every weight and the optimizer's
/// state untouched. (With clipping, or an optimizer that cannot work in slices, the calling
/// thread applies the update after the gradients are complete, exactly as `Trainer::step` does.)
///
/// - Deterministic: for a given thread count the results are the same bits on every run (each
///   thread's arithmetic is fixed, and so is the order of every sum). Against one thread they
///   differ by rounding only (sums grouped by shard, or the output summed over two parts).
/// - No allocation per step once built, as long as the batch size stays the same (a run-time
///   batch that changes size re-splits the shards or resizes the parts' values, which allocates).
/// - The calling thread is thread 0: N threads means N - 1 `std::jthread`s started at
///   construction, waiting between steps, joined at destruction. The threads meet at a barrier
///   between phases (detail/spin_barrier.hpp: it spins briefly before it sleeps, since the waits
///   of a step are microseconds). No pool: a barrier per phase is all the coordination a step
///   needs (docs/design.md §7).
/// - An exception in any thread (a label out of range, say) is rethrown by `step()` or
///   `compute()` in the calling thread, after every thread has finished the step; nothing is
///   updated.
///
/// - What it costs: by rows, each step moves every thread's slice of the new weights and of the
///   summed gradients to the other cores. Where cores are far apart (a virtual machine, several
///   chiplets) two threads can train a deeper net at batch 64 slower than one (docs/design.md
///   §7): time one thread against N on the machine that trains.
///
/// Not movable: the threads refer to it. The network must outlive it, as for a Trainer.
#pragma once

#include "tapeless/detail/spin_barrier.hpp"
#include "tapeless/network/hidden_split.hpp"
#include "tapeless/network/trainer.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <concepts>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tapeless {

template <class Net, class Loss, int Batch = dynamic, class Precision = FullPrecision>
class ParallelTrainer {
  static_assert(!detail::precision_traits<Precision>::scaled,
                "tapeless::ParallelTrainer: dynamic loss scaling (Mixed<Eigen::half>) runs in a Trainer only; "
                "use Mixed<Eigen::bfloat16>, which needs no loss scale");

 public:
  using scalar_type = typename Net::scalar_type;
  using input_type = Tensor<scalar_type, Batch, Net::in>;
  using target_type = typename Loss::template target_type<scalar_type, Batch, Net::out>;
  using output_matrix = Eigen::Matrix<scalar_type, Eigen::Dynamic, Net::out>;

  /// Builds `threads` shards of a batch of `batch` rows (ignored when Batch is fixed) and starts
  /// threads - 1 threads. Throws std::invalid_argument if threads < 1.
  ParallelTrainer(Net& net, int threads, Index batch = Batch == dynamic ? 1 : Batch);
  ParallelTrainer(const ParallelTrainer&) = delete;  // the threads refer to this object
  ParallelTrainer& operator=(const ParallelTrainer&) = delete;
  ~ParallelTrainer();

  /// The whole batch the next step reads: fill these (resize them for a new batch size).
  input_type& inputs() noexcept { return x_; }
  const input_type& inputs() const noexcept { return x_; }
  target_type& targets() noexcept { return y_; }
  const target_type& targets() const noexcept { return y_; }
  int threads() const noexcept { return threads_; }
  /// Whether the threads split the network by hidden units (network/hidden_split.hpp) rather
  /// than the batch by rows: a network `Sequential<Linear<I, H>, F..., Linear<H, O>>` (F
  /// elementwise functions) with H even, trained in full precision on two threads.
  bool splits_hidden_units() const noexcept { return !parts_.empty(); }

  /// Forward and backward over the batch: the loss, and the gradients in net.gradients().
  StepResult compute();
  /// One training step (Trainer::step's contract): the shards' gradients, summed; then the
  /// optimizer's update in slices on every thread (Sgd, Adam, any optimizer with
  /// plan/check/commit/finish or plan/apply/undo/finish), or, with clipping or another optimizer,
  /// the checks, clipping and update on the calling thread.
  template <class Optimizer>
  StepResult step(Optimizer& optimizer, Clip clip = {}) {
    if constexpr (checked_slices<Optimizer> || undoable_slices<Optimizer>) {
      if (clip.max_norm == 0 && clip.max_value == 0) return sliced_step(optimizer);
    }
    return shards_.front()->trainer.finish_step(optimizer, clip, run());
  }
  /// The network's output (batch x Net::out) of the last step's forward pass, gathered from the
  /// shards (copied into a matrix this object keeps).
  const output_matrix& output();
  /// What went wrong in step `r`, in words (Trainer::explain).
  std::string explain(const StepResult& r) const { return shards_.front()->trainer.explain(r); }

 private:
  using S = scalar_type;
  using shard_trainer = Trainer<Net, Loss, dynamic, Precision>;
  /// What thread k did in a step (its shard or its part).
  struct Outcome {
    StepResult result;
    std::exception_ptr error;       // before the first meeting: every thread reads it after
    std::exception_ptr late_error;  // after it (the split's loss): the caller reads it after the step
    bool tried = false;             // this thread checked (or applied) its ranges of the update
    bool update_ok = false;         // and every new value is finite
  };
  struct Shard {
    Index first = 0, rows = 0;
    typename Net::vector_type gradients;  // shard 0 writes to the network's own buffer instead
    S* value_cursor;
    S* gradient_cursor;
    typename Net::params_type params;
    shard_trainer trainer;
    Shard(Net& net, bool own_buffer, Index n)
        : gradients(own_buffer ? Net::parameter_size : 0),
          value_cursor(net.values().data()),
          gradient_cursor(own_buffer ? gradients.data() : net.gradients().data()),
          params(value_cursor, gradient_cursor),
          trainer(net, params, n) {}
  };

  // The split by hidden units, for the networks and precision it applies to, on two threads.
  static constexpr int split_parts = 2;
  static constexpr bool splittable =
      std::is_same_v<Precision, FullPrecision> && detail::hidden_split<typename Net::layers, split_parts>::value;
  using part_type = std::conditional_t<splittable, detail::split_part<Net, Loss, Batch, split_parts>, detail::none>;
  using Range = std::pair<Index, Index>;  // [first, first + n) of the parameter buffers

  void split();
  void forward_backward(std::size_t k);
  void reduce(std::size_t k);
  StepResult run();
  void work(std::size_t k);
  void phases(std::size_t k);
  void row_phases(std::size_t k);
  void part_phases(std::size_t k);
  void update(std::size_t k, bool ready);

  // An optimizer whose update works slice by slice, one of two ways. With no clipping (which
  // needs the global norm first), each thread takes its slice right after summing it:
  // - checked (Sgd): check it; commit it once every slice has passed;
  // - undoable (Adam): apply it, saving what it overwrites; undo it if any slice failed.
  template <class O>
  static constexpr bool checked_slices = requires(O& o, const typename O::Plan& p, typename Net::vector_type& w) {
    { o.plan() } -> std::same_as<typename O::Plan>;
    { o.check(p, w, w, Index{}, Index{}) } -> std::same_as<bool>;
    o.commit(p, w, w, Index{}, Index{});
    o.finish(p);
  };
  template <class O>
  static constexpr bool undoable_slices = requires(O& o, const typename O::Plan& p, typename Net::vector_type& w) {
    { o.plan() } -> std::same_as<typename O::Plan>;
    { o.apply(p, w, w, Index{}, Index{}) } -> std::same_as<bool>;
    o.undo(p, w, Index{}, Index{});
    o.finish(p);
  };
  struct Job {  // the step's update, type-erased for the workers (set before a step starts)
    void* optimizer = nullptr;
    const void* plan = nullptr;
    bool (*first)(ParallelTrainer&, std::size_t) = nullptr;   // check, or apply
    void (*second)(ParallelTrainer&, std::size_t) = nullptr;  // commit, or undo
    bool second_if_all_passed = true;                         // commit: true; undo: false
  };
  template <class O>
  static bool first_slice(ParallelTrainer& t, std::size_t k) {
    O& o = *static_cast<O*>(t.job_.optimizer);
    const auto& plan = *static_cast<const typename O::Plan*>(t.job_.plan);
    bool ok = true;  // every range is tried, even after one failed: undo restores each
    for (const auto& [first, n] : t.ranges_[k]) {
      if constexpr (checked_slices<O>)
        ok = o.check(plan, t.net_->values(), t.net_->gradients(), first, n) && ok;
      else
        ok = o.apply(plan, t.net_->values(), t.net_->gradients(), first, n) && ok;
    }
    return ok;
  }
  template <class O>
  static void second_slice(ParallelTrainer& t, std::size_t k) {
    O& o = *static_cast<O*>(t.job_.optimizer);
    const auto& plan = *static_cast<const typename O::Plan*>(t.job_.plan);
    for (const auto& [first, n] : t.ranges_[k]) {
      if constexpr (checked_slices<O>)
        o.commit(plan, t.net_->values(), t.net_->gradients(), first, n);
      else
        o.undo(plan, t.net_->values(), first, n);
    }
  }
  template <class O>
  StepResult sliced_step(O& optimizer) {
    const typename O::Plan plan = optimizer.plan();
    job_ = {&optimizer, &plan, &first_slice<O>, &second_slice<O>, checked_slices<O>};
    StepResult r;
    try {
      r = run();
    } catch (...) {
      job_ = {};
      throw;
    }
    job_ = {};
    if (!r.ok()) return r;
    if (all_updates_ok()) {
      optimizer.finish(plan);
    } else if (detail::all_finite(net_->gradients())) {
      r.status = StepResult::Status::non_finite_update;
    } else {
      shards_.front()->trainer.non_finite_gradient(r);
    }
    return r;
  }
  /// Shard k's rows of a batch of `rows` split `n` ways: nearly equal, the first rows % n one longer.
  static Index share(Index rows, Index n, Index k) { return rows / n + (k < rows % n ? 1 : 0); }
  /// This thread's slice of the parameter vector: [first, first + n).
  std::pair<Index, Index> slice(std::size_t k) const {
    const Index n = threads_, size = Net::parameter_size;
    const Index first = size * static_cast<Index>(k) / n, last = size * (static_cast<Index>(k) + 1) / n;
    return {first, last - first};
  }
  bool losses_finite() const {
    for (std::size_t k = 0; k < shards_.size(); ++k)
      if (shards_[k]->rows > 0 && !std::isfinite(outcomes_[k].result.loss)) return false;
    return true;
  }
  bool all_updates_ok() const {
    for (const auto& o : outcomes_)
      if (!o.update_ok) return false;
    return true;
  }
  bool any_error() const {
    for (const auto& o : outcomes_)
      if (o.error) return true;
    return false;
  }

  Net* net_;
  int threads_;
  input_type x_;
  target_type y_;
  std::vector<std::unique_ptr<Shard>> shards_;     // row shards; split by hidden units, shard 0 only (explain)
  std::vector<std::unique_ptr<part_type>> parts_;  // split by hidden units: part k is thread k's
  std::vector<Outcome> outcomes_;                  // thread k's
  std::vector<std::vector<Range>> ranges_;         // the parameters thread k updates
  output_matrix out_;
  detail::spin_barrier sync_;
  std::atomic<bool> stop_{false};
  Job job_;  // written by the calling thread only while the workers wait for a step
  std::vector<std::jthread> workers_;
};

template <class Net, class Loss, int Batch, class Precision>
ParallelTrainer<Net, Loss, Batch, Precision>::ParallelTrainer(Net& net, int threads, Index batch)
    : net_(&net),
      threads_(threads),
      x_([&] {
        if constexpr (Batch == dynamic)
          return input_type(batch);
        else
          return input_type();
      }()),
      y_([&] {
        if constexpr (Batch == dynamic)
          return target_type(batch);
        else
          return target_type();
      }()),
      sync_(threads < 1 ? 1 : threads) {
  if (threads < 1)
    throw std::invalid_argument("tapeless::ParallelTrainer: " + std::to_string(threads) + " threads: at least one");
  const auto n = static_cast<std::size_t>(threads);
  outcomes_.resize(n);
  ranges_.resize(n);
  if constexpr (splittable) {
    if (threads == split_parts) {
      shards_.push_back(std::make_unique<Shard>(net, false, 1));  // for explain() and finish_step() only
      for (int k = 0; k < threads; ++k) {
        parts_.push_back(std::make_unique<part_type>(net, k, x_, y_));
        ranges_[static_cast<std::size_t>(k)] = parts_.back()->owned();
      }
    }
  }
  if (parts_.empty()) {
    shards_.reserve(n);
    for (int k = 0; k < threads; ++k) {  // an idle shard still gets a one-row program, used if the batch grows
      shards_.push_back(std::make_unique<Shard>(net, k > 0, std::max<Index>(1, share(x_.rows(), threads, k))));
      ranges_[static_cast<std::size_t>(k)].push_back(slice(static_cast<std::size_t>(k)));
    }
    split();
  }
  workers_.reserve(n - 1);
  try {
    for (std::size_t k = 1; k < n; ++k) workers_.emplace_back([this, k] { work(k); });
  } catch (...) {  // a thread could not start: the barrier stops expecting the missing ones
    for (std::size_t k = workers_.size() + 1; k < n; ++k) (void)sync_.arrive_and_drop();
    stop_.store(true, std::memory_order_relaxed);
    sync_.arrive_and_wait();  // the started workers see stop_ and return; their jthreads join
    throw;
  }
}

template <class Net, class Loss, int Batch, class Precision>
ParallelTrainer<Net, Loss, Batch, Precision>::~ParallelTrainer() {
  stop_.store(true, std::memory_order_relaxed);
  sync_.arrive_and_wait();  // releases the workers, which see stop_ and return; jthread joins
}

template <class Net, class Loss, int Batch, class Precision>
void ParallelTrainer<Net, Loss, Batch, Precision>::split() {
  const Index n = static_cast<Index>(shards_.size());
  Index first = 0;
  for (Index k = 0; k < n; ++k) {
    Shard& s = *shards_[static_cast<std::size_t>(k)];
    s.first = first;
    s.rows = share(x_.rows(), n, k);
    if (s.rows > 0 && s.trainer.inputs().rows() != s.rows) {
      s.trainer.inputs().resize(s.rows);
      s.trainer.targets().resize(s.rows);
    }
    first += s.rows;
  }
}

template <class Net, class Loss, int Batch, class Precision>
void ParallelTrainer<Net, Loss, Batch, Precision>::forward_backward(std::size_t k) {
  Shard& s = *shards_[k];
  if (s.rows == 0) return;  // idle: fewer rows than threads
  try {
    s.trainer.inputs().value() = x_.value().middleRows(s.first, s.rows);
    s.trainer.targets().value() = y_.value().middleRows(s.first, s.rows);
    outcomes_[k].result = s.trainer.forward_backward();
  } catch (...) {
    outcomes_[k].error = std::current_exception();
  }
}

template <class Net, class Loss, int Batch, class Precision>
void ParallelTrainer<Net, Loss, Batch, Precision>::reduce(std::size_t k) {
  // this thread's slice of the gradient vector, summed over the shards in shard order
  if (shards_[0]->rows == x_.rows()) return;  // one shard took every row: its gradients are the sum, bits as they are
  const auto [first, n] = slice(k);
  const S total = static_cast<S>(x_.rows());
  auto g = net_->gradients().segment(first, n);
  g *= static_cast<S>(shards_[0]->rows) / total;
  for (std::size_t j = 1; j < shards_.size() && shards_[j]->rows > 0; ++j)
    g += (static_cast<S>(shards_[j]->rows) / total) * shards_[j]->gradients.segment(first, n);
}

template <class Net, class Loss, int Batch, class Precision>
void ParallelTrainer<Net, Loss, Batch, Precision>::work(std::size_t k) {
  for (;;) {
    sync_.arrive_and_wait();  // a step starts (or the trainer is being destroyed)
    if (stop_.load(std::memory_order_relaxed)) return;
    phases(k);
  }
}

template <class Net, class Loss, int Batch, class Precision>
void ParallelTrainer<Net, Loss, Batch, Precision>::phases(std::size_t k) {
  if (parts_.empty())
    row_phases(k);
  else
    part_phases(k);
}

// A step, as thread k runs it (the caller is thread 0); every thread meets every barrier.
template <class Net, class Loss, int Batch, class Precision>
void ParallelTrainer<Net, Loss, Batch, Precision>::row_phases(std::size_t k) {
  forward_backward(k);
  sync_.arrive_and_wait();  // every shard is done: its result and error are visible to every thread
  const bool clean = !any_error();
  if (clean) reduce(k);
  update(k, clean && losses_finite());
}

// The update's two phases, as thread k runs them: its ranges checked (or applied) if the step got
// this far (`ready`), then, once every thread has, committed if all passed (or undone if any failed).
template <class Net, class Loss, int Batch, class Precision>
void ParallelTrainer<Net, Loss, Batch, Precision>::update(std::size_t k, bool ready) {
  Outcome& o = outcomes_[k];
  o.tried = job_.first != nullptr && ready;
  o.update_ok = o.tried && job_.first(*this, k);
  sync_.arrive_and_wait();  // every thread's ranges are checked (or applied)
  if (o.tried && all_updates_ok() == job_.second_if_all_passed) job_.second(*this, k);
  sync_.arrive_and_wait();
}

// The same, split by hidden units: thread k runs part k over the whole batch; after the forward
// passes every thread sums the parts' outputs and takes the loss itself (the same bits on every
// thread), then backward to its part's parameters and the update of those.
template <class Net, class Loss, int Batch, class Precision>
void ParallelTrainer<Net, Loss, Batch, Precision>::part_phases([[maybe_unused]] std::size_t k) {
  if constexpr (splittable) {  // (parts_ is empty otherwise: never called)
    Outcome& o = outcomes_[k];
    part_type& part = *parts_[k];
    try {
      part.forward();
    } catch (...) {
      o.error = std::current_exception();
    }
    sync_.arrive_and_wait();  // every part's output is ready
    const bool clean = !any_error();
    if (clean) {
      try {
        o.result.loss = part.backward(parts_);
        o.result.status = std::isfinite(o.result.loss) ? StepResult::Status::ok : StepResult::Status::non_finite_loss;
      } catch (...) {  // the loss's: every thread throws it alike, on the same sum and targets
        o.late_error = std::current_exception();  // not `error`, which the other thread may be reading
      }
    }
    update(k, clean && !o.late_error && o.result.ok());
  }
}

template <class Net, class Loss, int Batch, class Precision>
StepResult ParallelTrainer<Net, Loss, Batch, Precision>::run() {
  if (y_.rows() != x_.rows())
    throw shape_error("tapeless::ParallelTrainer: inputs of " + std::to_string(x_.rows()) + " rows and targets of " +
                      std::to_string(y_.rows()) + "; one target row per input row");
  if (x_.rows() < 1) throw std::invalid_argument("tapeless::ParallelTrainer: an empty batch");
  if constexpr (Batch == dynamic) {
    if (parts_.empty()) {
      Index rows = 0;
      for (const auto& s : shards_) rows += s->rows;
      if (rows != x_.rows()) split();  // a new batch size: the shards are cut again (may allocate)
    }
  }
  for (auto& o : outcomes_) o.result = {};
  sync_.arrive_and_wait();  // the workers start their shards
  phases(0);
  for (auto& o : outcomes_) {
    if (o.error || o.late_error) {
      std::exception_ptr e = o.error ? o.error : o.late_error;
      for (auto& p : outcomes_) p.error = p.late_error = nullptr;
      std::rethrow_exception(e);
    }
  }
  if (!parts_.empty()) return outcomes_.front().result;  // every part took the same loss
  StepResult r;
  for (std::size_t k = 0; k < shards_.size(); ++k)
    if (shards_[k]->rows > 0)
      r.loss += static_cast<double>(shards_[k]->rows) / static_cast<double>(x_.rows()) * outcomes_[k].result.loss;
  if (!std::isfinite(r.loss)) r.status = StepResult::Status::non_finite_loss;
  return r;
}

template <class Net, class Loss, int Batch, class Precision>
StepResult ParallelTrainer<Net, Loss, Batch, Precision>::compute() {
  StepResult r = run();
  if (r.ok() && !detail::all_finite(net_->gradients())) shards_.front()->trainer.non_finite_gradient(r);
  return r;
}

template <class Net, class Loss, int Batch, class Precision>
auto ParallelTrainer<Net, Loss, Batch, Precision>::output() -> const output_matrix& {
  if constexpr (splittable) {
    if (!parts_.empty()) {
      out_ = parts_.front()->output();
      return out_;
    }
  }
  out_.resize(x_.rows(), Net::out);
  for (const auto& s : shards_)
    if (s->rows > 0) out_.middleRows(s->first, s->rows) = s->trainer.output();
  return out_;
}

}  // namespace tapeless
