/// @file
/// @brief `Trainer<Network, Loss, Batch, Precision>`: the compiled training step and inference of
/// a network.
///
/// It owns the input and target tensors of one batch (Batch rows, or `dynamic`), the network
/// compiled layer by layer (network/chain.hpp: one program per layer, with the gradient of every
/// parameter written straight into the network's gradient buffer) and the loss's program.
/// Inference runs the same layer programs' forward pass. `Precision` is `FullPrecision` (the
/// default) or `Mixed<Eigen::bfloat16>` / `Mixed<Eigen::half>`: activations rounded to and kept
/// in half precision over float weights, with dynamic loss scaling for binary16
/// (network/precision.hpp).
/// After construction a step (forward, backward, optimizer update) and an inference allocate
/// nothing, as long as the batch size stays the same.
///
/// A Trainer is movable, not copyable: its tensors and programs (which refer to one another) live
/// in one heap block allocated at construction, and a move hands that block over. A moved-from
/// Trainer may only be destroyed or assigned to.
///
/// A step whose loss, gradient or update is not finite does not touch the weights (nor the
/// optimizer's state): `step()` reports it. The built-in optimizers test the update itself, which
/// covers the gradients too, so an unclipped step needs no separate pass over them: Adam (and
/// Sgd, where its data fit in the L2 cache) applies it in one pass that saves what it
/// overwrites, and undoes it if it is not finite; a larger Sgd checks its update, then commits
/// it (detail/update_pass.hpp). At one row, Sgd without momentum on a network of Linear layers
/// (from Sgd::fused_outer_minimum parameters) forms the weight gradients in its update instead
/// of backward (`step`, detail/outer_update.hpp).
#pragma once

#include "tapeless/core/error.hpp"
#include "tapeless/core/leaf.hpp"
#include "tapeless/core/tensor.hpp"
#include "tapeless/detail/finite.hpp"
#include "tapeless/detail/outer_update.hpp"
#include "tapeless/detail/owned.hpp"
#include "tapeless/detail/unpacked_gemm.hpp"
#include "tapeless/engine/program.hpp"
#include "tapeless/layers/tap.hpp"
#include "tapeless/network/chain.hpp"
#include "tapeless/network/precision.hpp"
#include "tapeless/ops/tap.hpp"
#include "tapeless/optim/clip.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace tapeless {

/// What a training step did.
struct StepResult {
  enum class Status {
    ok,
    non_finite_loss,      ///< the loss is NaN or infinite
    non_finite_gradient,  ///< a gradient coefficient is NaN or infinite
    non_finite_update,    ///< gradients are finite but the update would make a weight (or the
                          ///< optimizer's state) non-finite: too large a rate for these gradients
  };
  double loss = 0;
  Status status = Status::ok;
  /// Where, for `non_finite_gradient`: the first parameter, in `net.parameters()` order, whose
  /// gradient holds a NaN or an infinity; -1 otherwise. `Trainer::explain` names it.
  int parameter = -1;
  bool ok() const noexcept { return status == Status::ok; }
};

/// What `Trainer::evaluate` measured on a data set: no gradient computed, no weight changed.
struct Evaluation {
  double loss = 0;  ///< the mean loss over every row
  /// Class-index targets: the share of rows whose largest output is the label; NaN otherwise.
  double accuracy = std::numeric_limits<double>::quiet_NaN();
  Index rows = 0;
};

/// Optional gradient clipping applied by `Trainer::step` before the update (0: off).
struct Clip {
  double max_norm = 0;
  double max_value = 0;
};

template <class Net, class Loss, int Batch, class Precision>
class ParallelTrainer;

template <class Net, class Loss, int Batch = dynamic, class Precision = FullPrecision>
class Trainer {
  static constexpr bool mixed = detail::precision_traits<Precision>::mixed;
  static constexpr bool scaled = detail::precision_traits<Precision>::scaled;
  static_assert(!mixed || std::is_same_v<typename Net::scalar_type, float>,
                "tapeless::Mixed: mixed precision keeps float master weights: use a Network<Layers, float>");

 public:
  using scalar_type = typename Net::scalar_type;
  using input_type = Tensor<scalar_type, Batch, Net::in>;
  using target_type = typename Loss::template target_type<scalar_type, Batch, Net::out>;

 private:
  using chain_type = detail::chain<Net, Batch, true, Precision>;
  using output_type = typename chain_type::output_type;
  static auto make_loss(const output_type& out, const target_type& y) {
    if constexpr (std::is_same_v<output_type, detail::invalid_boundary>) {
      (void)out;
      (void)y;
      return Program<InvalidExpr>(InvalidExpr{});  // a layer was diagnosed already
    } else {
      auto loss = Loss::apply(var(out), y);
      return Program<decltype(loss), output_type>(std::move(loss), out);
    }
  }
  using loss_program = decltype(make_loss(std::declval<const output_type&>(), std::declval<const target_type&>()));

  static input_type make_input(Index batch) {
    if constexpr (Batch == dynamic)
      return input_type(batch);
    else
      return input_type();
  }
  static target_type make_target(Index batch) {
    if constexpr (Batch == dynamic)
      return target_type(batch);
    else
      return target_type();
  }

 public:
  /// Builds the programs for `net` and a batch of `batch` rows (ignored when Batch is fixed).
  /// `net` must outlive the trainer and stay the object it is: the trainer refers to it (a
  /// network moved into another object leaves this one empty).
  explicit Trainer(Net& net, Index batch = Batch == dynamic ? 1 : Batch);
  Trainer(Trainer&&) noexcept = default;  // hands over the block the programs live in
  Trainer& operator=(Trainer&&) noexcept = default;
  Trainer(const Trainer&) = delete;  // the programs refer to this object's tensors
  Trainer& operator=(const Trainer&) = delete;
  ~Trainer();

  /// The batch the next step or inference reads: fill these (resize them for a new batch size).
  input_type& inputs() noexcept { return s_->x; }
  const input_type& inputs() const noexcept { return s_->x; }
  target_type& targets() noexcept { return s_->y; }
  const target_type& targets() const noexcept { return s_->y; }

  /// Forward and backward on the current batch: the loss, and the gradients in net.gradients().
  StepResult compute();

  /// One training step: forward, backward, then, only if loss, gradients and update are all
  /// finite, clipping and the optimizer's update. Otherwise the weights and the optimizer's state
  /// are left exactly as they were, and the status says why.
  ///
  /// An optimizer's `update(net)` returns whether it committed the update (the built-in ones
  /// return false, having changed nothing, for an update that is not finite); an optimizer whose
  /// `update` returns void is trusted with finite gradients.
  ///
  /// Under `Mixed<Eigen::half>` a step that is not finite for its loss or gradients also halves
  /// the loss scale, and a finite one counts towards doubling it (`loss_scale()`).
  ///
  /// At one row, without clipping, for a network whose parameters are all Linear layers' and an
  /// optimizer that can (Sgd without momentum, from `Sgd::fused_outer_minimum` parameters:
  /// `Sgd::fuses_outer`, `check_outer`, `commit_outer`), backward leaves the weight
  /// and bias gradients to the update, which forms them in registers as it checks and commits
  /// the new weights, and stores them as it commits (fewer passes over memory: bench/analysis.md,
  /// stop 36). The bits are the same as computing the gradients first: the gradients, the
  /// weights and the status, a failed step included (its gradients are stored then too).
  template <class Optimizer>
  StepResult step(Optimizer& optimizer, Clip clip = {}) {
    if constexpr (fuses_outer<Optimizer>)
      if (clip.max_norm <= 0 && clip.max_value <= 0 && s_->x.rows() == 1 &&
          optimizer.fuses_outer(net_->values().size()))
        return outer_step(optimizer);
    StepResult r = finish_step(optimizer, clip, forward_backward());
    if constexpr (scaled)
      s_->scale.update(r.status != StepResult::Status::non_finite_loss &&
                       r.status != StepResult::Status::non_finite_gradient);
    return r;
  }

  /// The dynamic loss scale (`Mixed<Eigen::half>` only; network/precision.hpp): read it, or set
  /// its fields before training. (Member templates, so that `template class Trainer<...>` does
  /// not instantiate them where they do not apply: clang 14 instantiates a constrained member.)
  template <bool Scaled = scaled>
  requires Scaled LossScale& loss_scale() noexcept { return s_->scale; }
  template <bool Scaled = scaled>
  requires Scaled const LossScale& loss_scale() const noexcept { return s_->scale; }

  /// The network's output for the current inputs (batch x Net::out).
  const auto& infer() { return run_inference(); }

  /// The network's output (batch x Net::out) as the last compute(), step() or infer() computed
  /// it: for step(), before the update, the logits the step's loss was taken on (what a training
  /// accuracy counts, with no second forward pass).
  const auto& output() const noexcept { return s_->chain.value(); }

  /// The mean loss (and, for class-index targets, the accuracy) over a whole data set: `x` has
  /// one row per sample (Net::in columns), `y` its targets (as many rows, the targets' columns).
  /// Forward passes only, batch by batch through this trainer's own programs (its batch tensors
  /// are overwritten; the gradients and weights are not touched). A last, partial batch is
  /// padded with copies of its first row and that row's loss taken out again (one more forward),
  /// so a fixed batch evaluates any number of rows; the result equals one pass over all rows to
  /// rounding. Throws shape_error for mismatched shapes, std::invalid_argument for no rows.
  template <class X, class Y>
  Evaluation evaluate(const Eigen::MatrixBase<X>& x, const Eigen::MatrixBase<Y>& y);

  /// What went wrong in step `r`, in words: "the loss is nan", "the gradient of 0.weight holds
  /// inf at (3, 1)", or "the update would not be finite ...". Reads the gradients the step left,
  /// so call it before the next step. Allocates (a string): for the error path only.
  std::string explain(const StepResult& r) const;

  /// Bytes of activations a step keeps from forward to backward, known from the type (constexpr):
  /// the values and adjoints of the layers' programs and of the loss's, with `batch` rows (the
  /// fixed batch needs no argument). A checkpointed layer (layers/checkpoint.hpp) counts its
  /// output only, and each type of them one shared program. Op workspaces (matrix-product
  /// packing buffers, softmax-CE's probabilities) and the input and target tensors are not
  /// counted.
  static constexpr std::size_t activation_bytes(Index batch) {
    return chain_type::activation_bytes(batch) + loss_program::storage_bytes(batch);
  }
  static constexpr std::size_t activation_bytes() requires(Batch != dynamic) { return activation_bytes(Batch); }

  /// @name Taps (layers wrapped in `Tap<>`, layers/tap.hpp)
  /// The network's taps, in the order of its layers: each one's value after the last forward
  /// pass and its gradient dL/dy after the last backward pass (`TapView`), as the step left them.
  /// @{
  using tap_view = TapView<scalar_type>;
  /// Called during backward with a tap's view, while its adjoint is in cache. Set before
  /// training (setting one may allocate); calling it allocates nothing.
  using tap_hook = std::function<void(const tap_view&)>;
  /// How many taps the network has.
  static constexpr std::size_t tap_count() noexcept { return taps; }
  /// Tap k, in layer order (std::out_of_range past the last).
  const tap_view& tap(std::size_t k) const;
  /// The tap of that name; std::invalid_argument naming the taps there are if none has it.
  const tap_view& tap(std::string_view name) const;
  /// Sets `hook` on every tap that backward reaches (an empty hook removes them).
  void on_tap(tap_hook hook);
  /// Sets `hook` on one tap (an empty hook removes it); std::invalid_argument for an unknown name
  /// or a tap that backward never reaches (no parameter below it: its hook would never run).
  void on_tap(std::string_view name, tap_hook hook);
  /// @}

 private:
  static constexpr std::size_t taps = detail::tap_count<layer_t<typename Net::layers>>();
  // The taps' names (layers/tap.hpp), their views in the programs, whether backward reaches
  // each, and their hooks: built once, with the programs.
  struct TapTable {
    std::vector<std::string> names;
    std::vector<tap_view*> views;
    std::vector<tap_hook> hooks;
    void set_hook(std::size_t k, tap_hook hook) {
      hooks[k] = std::move(hook);
      views[k]->set_hook(hooks[k] ? typename tap_view::Hook{&call, &hooks[k]} : typename tap_view::Hook{});
    }
    static void call(const void* hook, const tap_view& view) { (*static_cast<const tap_hook*>(hook))(view); }
  };

  // The batch's tensors and the programs that refer to them (and to each other), at one address.
  struct State {
    input_type x;
    target_type y;
    chain_type chain;
    loss_program loss;
    [[no_unique_address]] std::conditional_t<(taps > 0), TapTable, detail::none> tap_table;
    [[no_unique_address]] std::conditional_t<scaled, LossScale, detail::none> scale;
    State(typename Net::params_type& params, Index batch)
        : x(make_input(batch)), y(make_target(batch)), chain(x, params), loss(make_loss(chain.output(), y)) {
      detail::check_taps<layer_t<typename Net::layers>>();  // a Tap inside a Checkpoint: one diagnostic
      if constexpr (taps > 0) bind_taps(tap_table, chain);
    }
  };
  static void bind_taps(TapTable& t, chain_type& chain);
  /// The index of the tap named `name`; std::invalid_argument naming the taps there are if none.
  std::size_t tap_index(std::string_view name, const char* caller) const;
  Net* net_;
  detail::owned<State> s_;

  template <class, class, int, class>
  friend class ParallelTrainer;
  /// A shard of a ParallelTrainer: the gradients go where `params` points (a shard's buffer).
  Trainer(Net& net, typename Net::params_type& params, Index batch)
      : net_(&net), s_(detail::make_owned<State>(params, batch)) {}
  /// The rest of step() once the gradients are in the network's buffer: the checks, clipping
  /// and the optimizer's update, or nothing if `r` already failed.
  template <class Optimizer>
  StepResult finish_step(Optimizer& optimizer, Clip clip, StepResult r) {
    if (!r.ok()) return r;
    Net& net = *net_;
    constexpr bool checks_update = requires {
      { optimizer.update(net) } -> std::same_as<bool>;
    };
    // clipping would hide a NaN (clamping compares it away), so the gradients are checked first
    if (clip.max_norm > 0 || clip.max_value > 0 || !checks_update) {
      if (!detail::all_finite(net.gradients())) return non_finite_gradient(r);
      if (clip.max_norm > 0) clip_by_global_norm(net.gradients(), clip.max_norm);
      if (clip.max_value > 0) clip_by_value(net.gradients(), clip.max_value);
    }
    if constexpr (checks_update) {
      if (!optimizer.update(net)) {
        if (detail::all_finite(net.gradients()))
          r.status = StepResult::Status::non_finite_update;
        else
          non_finite_gradient(r);
      }
    } else {
      optimizer.update(net);
    }
    return r;
  }

  // Whether step() can leave the Linear layers' gradients to the update at one row (the network
  // and the batch allow it), and to this optimizer's.
  static constexpr bool outer_rows = chain_type::outer_updates && (Batch == 1 || Batch == dynamic);
  template <class Optimizer>
  static constexpr bool fuses_outer = outer_rows&& requires(Optimizer& o, const typename Optimizer::Plan& p, Index n,
                                                            const detail::outer_weight<scalar_type>* w) {
    { o.fuses_outer(n) } -> std::same_as<bool>;
    { o.plan() } -> std::same_as<typename Optimizer::Plan>;
    { o.check_outer(p, w, std::size_t{}) } -> std::same_as<bool>;
    o.commit_outer(p, w, std::size_t{});
  };
  // step() at one row for a fuses_outer optimizer: backward without the Linear layers'
  // gradients, then the check of every weight's update, then its commit, or, if the check failed
  // (or the loss is not finite), the gradients stored and finish_step's verdict. What touches the
  // programs is out of line (`extern template`: network/extern_template tests it).
  template <class Optimizer>
  StepResult outer_step(Optimizer& optimizer) {
    const StepResult r = forward_backward_deferred();
    const outer_weights_type weights = outer_weights();
    const auto plan = optimizer.plan();
    if (r.ok() && optimizer.check_outer(plan, weights.data(), weights.size())) {
      optimizer.commit_outer(plan, weights.data(), weights.size());
      return r;
    }
    return outer_refused(r, weights);
  }
  // Every Linear layer's weight and bias (its x = 1), with its input row and its output's adjoint.
  using outer_weights_type =
      std::array<detail::outer_weight<scalar_type>, outer_rows ? 2 * chain_type::outer_layers : 0>;
  StepResult forward_backward_deferred();
  outer_weights_type outer_weights();
  StepResult outer_refused(StepResult r, const outer_weights_type& weights);

  using output_value = std::remove_cvref_t<decltype(std::declval<const chain_type&>().value())>;
  StepResult forward_backward();
  const output_value& run_inference();
  // the error path, out of line: inlined into step() it cost the b32 training cells 4% (bench/)
  [[gnu::cold, gnu::noinline]] StepResult& non_finite_gradient(StepResult& r) const;
};

// The members that run the network are defined outside the class, so that they are not inline:
// `extern template class Trainer<...>;` then keeps every translation unit but one from compiling
// them (docs/tutorial.md, "One network, many translation units").

template <class Net, class Loss, int Batch, class Precision>
Trainer<Net, Loss, Batch, Precision>::Trainer(Net& net, Index batch)
    : net_(&net), s_(detail::make_owned<State>(net.params(), batch)) {}

template <class Net, class Loss, int Batch, class Precision>
Trainer<Net, Loss, Batch, Precision>::~Trainer() = default;

template <class Net, class Loss, int Batch, class Precision>
StepResult Trainer<Net, Loss, Batch, Precision>::compute() {
  StepResult r = forward_backward();
  if (r.ok() && !detail::all_finite(net_->gradients())) non_finite_gradient(r);
  return r;
}

template <class Net, class Loss, int Batch, class Precision>
template <class X, class Y>
Evaluation Trainer<Net, Loss, Batch, Precision>::evaluate(const Eigen::MatrixBase<X>& x,
                                                          const Eigen::MatrixBase<Y>& y) {
  using T = typename target_type::scalar_type;
  State& s = *s_;
  const Index n = x.rows();
  if (x.cols() != Net::in || y.rows() != n || y.cols() != s.y.cols())
    throw shape_error("tapeless::Trainer::evaluate: inputs " + std::to_string(x.rows()) + "x" +
                      std::to_string(x.cols()) + " and targets " + std::to_string(y.rows()) + "x" +
                      std::to_string(y.cols()) + "; the network takes " + std::to_string(Net::in) +
                      " columns, the loss's targets have " + std::to_string(s.y.cols()) + ", one row per input row");
  if (n == 0) throw std::invalid_argument("tapeless::Trainer::evaluate: no rows to evaluate");
  const Index b = s.x.rows();
  Index hits = 0;
  // rows [first, first + real) into the batch, padded with copies of row `first`; the mean loss
  // (and the hits among the real rows)
  auto forward = [&](Index first, Index real) {
    for (Index r = 0; r < b; ++r) {
      const Index from = first + (r < real ? r : 0);
      s.x.value().row(r) = x.row(from).template cast<scalar_type>();
      s.y.value().row(r) = y.row(from).template cast<T>();
    }
    s.chain.forward();
    s.loss.forward();
    if constexpr (std::is_integral_v<T>)
      for (Index r = 0; r < real; ++r) {
        Index best = 0;
        s.chain.value().row(r).maxCoeff(&best);
        hits += best == static_cast<Index>(s.y.value()(r, 0));
      }
    return static_cast<double>(s.loss.scalar());
  };
  double total = 0;  // the sum of the rows' losses
  for (Index first = 0; first < n; first += b) {
    const Index real = std::min(b, n - first);
    const double mean = forward(first, real);
    total += mean * static_cast<double>(b);
    if (real < b) total -= forward(first, 0) * static_cast<double>(b - real);  // the padding's share
  }
  Evaluation e;
  e.loss = total / static_cast<double>(n);
  if constexpr (std::is_integral_v<T>) e.accuracy = static_cast<double>(hits) / static_cast<double>(n);
  e.rows = n;
  return e;
}

// The error path: which parameter's gradient is the first that is not finite.
template <class Net, class Loss, int Batch, class Precision>
StepResult& Trainer<Net, Loss, Batch, Precision>::non_finite_gradient(StepResult& r) const {
  r.status = StepResult::Status::non_finite_gradient;
  const auto& info = net_->parameters();
  for (std::size_t k = 0; k < info.size(); ++k)
    if (!detail::all_finite(net_->gradients().segment(info[k].offset, info[k].rows * info[k].cols))) {
      r.parameter = static_cast<int>(k);
      break;
    }
  return r;
}

template <class Net, class Loss, int Batch, class Precision>
std::string Trainer<Net, Loss, Batch, Precision>::explain(const StepResult& r) const {
  using Status = StepResult::Status;
  const auto number = [](double v) {
    std::ostringstream out;
    out << v;
    return out.str();
  };
  switch (r.status) {
    case Status::ok:
      return "the step was finite";
    case Status::non_finite_loss:
      return "the loss is " + number(r.loss);
    case Status::non_finite_update:
      return "the gradients are finite, but the update would not be: too large a learning rate for these gradients";
    case Status::non_finite_gradient:
      break;
  }
  const auto& info = net_->parameters();
  if (r.parameter < 0 || static_cast<std::size_t>(r.parameter) >= info.size()) return "a gradient is not finite";
  const ParameterInfo& p = info[static_cast<std::size_t>(r.parameter)];
  for (Index j = 0; j < p.cols; ++j)  // parameters are stored column by column
    for (Index i = 0; i < p.rows; ++i) {
      const double g = static_cast<double>(net_->gradients()(p.offset + j * p.rows + i));
      if (!std::isfinite(g))
        return "the gradient of " + p.name + " holds " + number(g) + " at (" + std::to_string(i) + ", " +
               std::to_string(j) + ")";
    }
  return "the gradient of " + p.name + " was not finite (it has changed since)";
}

template <class Net, class Loss, int Batch, class Precision>
void Trainer<Net, Loss, Batch, Precision>::bind_taps(TapTable& t, chain_type& chain) {
  detail::tap_names<layer_t<typename Net::layers>>("", t.names);
  std::vector<bool> reachable;
  chain.for_each_workspace([&](auto& slot, auto reached) {
    if constexpr (std::is_same_v<decltype(slot.work), tap_view>) {
      t.views.push_back(&slot.work);
      reachable.push_back(reached());
    }
  });
  if (t.views.size() != t.names.size())
    throw std::logic_error("tapeless::Trainer: the network's layers hold " + std::to_string(t.names.size()) +
                           " Tap<> but its expression has " + std::to_string(t.views.size()) +
                           " tap nodes: a layer's apply() calls tapeless::tap() itself or repeats an operand that "
                           "holds one; wrap the layer in Tap<> instead");
  for (std::size_t k = 0; k < t.views.size(); ++k) t.views[k]->bind(t.names[k], reachable[k]);
  t.hooks.resize(t.views.size());
}

template <class Net, class Loss, int Batch, class Precision>
auto Trainer<Net, Loss, Batch, Precision>::tap(std::size_t k) const -> const tap_view& {
  if constexpr (taps > 0) {
    if (k < taps) return *s_->tap_table.views[k];
  }
  throw std::out_of_range("tapeless::Trainer::tap: tap " + std::to_string(k) + " of " + std::to_string(taps));
}

template <class Net, class Loss, int Batch, class Precision>
std::size_t Trainer<Net, Loss, Batch, Precision>::tap_index(std::string_view name, const char* caller) const {
  std::string known;
  if constexpr (taps > 0) {
    const TapTable& t = s_->tap_table;
    for (std::size_t k = 0; k < taps; ++k)
      if (t.names[k] == name) return k;
    for (const std::string& n : t.names) known += (known.empty() ? "'" : ", '") + n + "'";
  }
  throw std::invalid_argument(std::string("tapeless::Trainer::") + caller + ": no tap is named '" + std::string(name) +
                              "'; " +
                              (known.empty() ? "the network has none (wrap a layer in Tap<>, layers/tap.hpp)"
                                             : "the network's taps are " + known));
}

template <class Net, class Loss, int Batch, class Precision>
auto Trainer<Net, Loss, Batch, Precision>::tap(std::string_view name) const -> const tap_view& {
  const std::size_t k = tap_index(name, "tap");
  if constexpr (taps > 0) return *s_->tap_table.views[k];
  throw std::logic_error("unreachable: tap_index throws when there is no tap");
}

template <class Net, class Loss, int Batch, class Precision>
void Trainer<Net, Loss, Batch, Precision>::on_tap(tap_hook hook) {
  if constexpr (taps > 0) {
    TapTable& t = s_->tap_table;
    for (std::size_t k = 0; k < taps; ++k)
      if (t.views[k]->reachable()) t.set_hook(k, hook);
  } else {
    (void)hook;
  }
}

template <class Net, class Loss, int Batch, class Precision>
void Trainer<Net, Loss, Batch, Precision>::on_tap(std::string_view name, tap_hook hook) {
  const std::size_t k = tap_index(name, "on_tap");
  if constexpr (taps > 0) {
    TapTable& t = s_->tap_table;
    if (!t.views[k]->reachable())
      throw std::invalid_argument("tapeless::Trainer::on_tap: backward never reaches tap '" + std::string(name) +
                                  "' (no parameter lies below it), so a hook on it would never run; read its value "
                                  "with tap(name) after a step");
    t.set_hook(k, std::move(hook));
  }
}

template <class Net, class Loss, int Batch, class Precision>
StepResult Trainer<Net, Loss, Batch, Precision>::forward_backward() {
  State& s = *s_;
  s.chain.forward();
  s.loss.run();
  auto& seed = s.loss.template gradient<0>();  // the adjoint of the network's output
  if constexpr (scaled) seed *= static_cast<scalar_type>(s.scale.scale);
  detail::round_matrix<Precision>(seed);
  s.chain.backward(seed);
  if constexpr (scaled) net_->gradients() *= static_cast<scalar_type>(1 / s.scale.scale);  // exact: a power of two
  StepResult r;
  r.loss = static_cast<double>(s.loss.scalar());
  if (!std::isfinite(r.loss)) r.status = StepResult::Status::non_finite_loss;
  return r;
}

template <class Net, class Loss, int Batch, class Precision>
StepResult Trainer<Net, Loss, Batch, Precision>::forward_backward_deferred() {
  if constexpr (!outer_rows) {
    return forward_backward();
  } else {
    struct deferred {  // for this backward only, an exception included
      chain_type& chain;
      explicit deferred(chain_type& c) : chain(c) { chain.defer_outer(true); }
      deferred(const deferred&) = delete;
      deferred& operator=(const deferred&) = delete;
      ~deferred() { chain.defer_outer(false); }
    };
    const deferred scope(s_->chain);
    return forward_backward();
  }
}

template <class Net, class Loss, int Batch, class Precision>
auto Trainer<Net, Loss, Batch, Precision>::outer_weights() -> outer_weights_type {
  outer_weights_type weights;
  if constexpr (outer_rows) {
    State& s = *s_;
    std::size_t k = 0;
    s.chain.for_each_outer(
        s.x, s.loss.template gradient<0>(), net_->params(),
        [&](Index in, Index out, const scalar_type* x, const scalar_type* g, auto& p) {
          weights[k++] = {in, out, x, g, p.weight.value().data(), p.weight.gradient().data()};
          weights[k++] = {
              1, out, &detail::outer_bias_input<scalar_type>, g, p.bias.value().data(), p.bias.gradient().data()};
        });
  }
  return weights;
}

template <class Net, class Loss, int Batch, class Precision>
StepResult Trainer<Net, Loss, Batch, Precision>::outer_refused(StepResult r, const outer_weights_type& weights) {
  // nothing committed: the gradients backward would have stored, and finish_step's verdict
  for (const auto& w : weights) detail::outer_gemm<false, scalar_type>(w.in, w.out, w.x, 1, w.g, 1, w.dw, w.in);
  if (!r.ok()) return r;
  if (detail::all_finite(net_->gradients()))
    r.status = StepResult::Status::non_finite_update;
  else
    non_finite_gradient(r);
  return r;
}

template <class Net, class Loss, int Batch, class Precision>
auto Trainer<Net, Loss, Batch, Precision>::run_inference() -> const output_value& {
  s_->chain.forward();
  return s_->chain.value();
}

}  // namespace tapeless
