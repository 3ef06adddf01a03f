/// @file
/// @brief How a Trainer and a Predictor compile a network: one `Program` per top-level layer,
/// chained at run time.
///
/// One program for a whole network would be one expression tree whose type nests every layer.
/// Each position's code is instantiated for that whole type, so identical layers share nothing
/// and compile time grows faster than depth (docs/design.md, compile time). A chain builds one
/// program per layer of a `Sequential` (or one for a network whose layer is not a Sequential),
/// over a boundary leaf that reads the previous layer's output. Layer k's program type depends
/// only on layer k and its input's shape, so the hidden layers of a deep net of equal widths are
/// one program type, compiled once.
///
/// - forward: the layers' programs in order (each reads the last one's value in place);
/// - backward: the loss's program seeds its root with 1; each layer's program requests the
///   gradient of its boundary leaf, which is the adjoint of the previous layer's output, and the
///   previous program's backward starts from it (`Program::backward(seed)`). Parameter gradients
///   go straight into the network's buffer. The arithmetic is the single program's, op for op.
#pragma once

#include "tapeless/core/error.hpp"
#include "tapeless/core/leaf.hpp"
#include "tapeless/core/storage.hpp"
#include "tapeless/core/tensor.hpp"
#include "tapeless/engine/program.hpp"
#include "tapeless/layers/checkpoint.hpp"
#include "tapeless/layers/layer.hpp"

#include <cstddef>
#include <memory>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>

namespace tapeless::detail {

/// A leaf's tensor that is the previous layer's output: its value lives in that layer's program.
template <class S, int R, int C>
struct boundary {
  using scalar_type = S;
  static constexpr int rows_at_compile_time = R;
  static constexpr int cols_at_compile_time = C;
  const storage_t<S, R, C>* source = nullptr;
  const storage_t<S, R, C>& value() const noexcept { return *source; }
  Dims dims() const noexcept { return {source->rows(), source->cols()}; }
};
/// What follows a layer whose expression is invalid (its one diagnostic was given): every later
/// layer and the loss become `InvalidExpr` silently.
struct invalid_boundary {
  using scalar_type = double;
  invalid_boundary() = default;
  template <class T>
  explicit invalid_boundary(const T*) {}
};

template <class T>
inline constexpr bool is_boundary_v = false;
template <class S, int R, int C>
inline constexpr bool is_boundary_v<boundary<S, R, C>> = true;

template <class E>
using boundary_of_t = boundary<scalar_t<E>, static_cast<int>(dims_v<E>.rows), static_cast<int>(dims_v<E>.cols)>;

/// The top-level layers of a network: a Sequential's, or the layer itself.
template <class Layers>
struct top_layers {
  using type = layer_list<Layers>;
};
template <class Layers>
requires requires { typename Layers::layer_types; }
struct top_layers<Layers> {
  using type = typename Layers::layer_types;
};

/// Whether a network's widths fit (a Sequential checks them; its apply() diagnoses a mismatch).
template <class Layers>
constexpr bool widths_ok() {
  if constexpr (requires { Layers::widths.ok; })
    return Layers::widths.ok;
  else
    return true;
}

/// Layer K's parameters in the network's.
template <std::size_t K, class Layers, class P>
auto& stage_params(P& p) {
  if constexpr (requires { typename Layers::layer_types; })
    return p.template layer<K>();
  else
    return p;
}

/// One layer's program over input tensor type In (the data for the first layer, a boundary
/// after it): with the gradients of its parameters and of its input (`Train`), or forward only.
template <class L, class In, bool Train>
struct stage {
  template <class P>
  static auto make(const In& x, P& p) {
    if constexpr (std::is_same_v<In, invalid_boundary>) {
      (void)x;
      (void)p;
      return Program<InvalidExpr>(InvalidExpr{});
    } else if constexpr (!Train) {
      auto e = layer_t<L>::apply(input(x), p);
      return Program<decltype(e)>(std::move(e));
    } else if constexpr (is_boundary_v<In>) {
      auto e = layer_t<L>::apply(var(x), p);
      return std::apply(
          [&](auto&... w) {
            return Program<decltype(e), std::remove_cvref_t<decltype(w)>..., In>(std::move(e), w..., x);
          },
          p.refs());
    } else {
      auto e = layer_t<L>::apply(input(x), p);
      return std::apply(
          [&](auto&... w) { return Program<decltype(e), std::remove_cvref_t<decltype(w)>...>(std::move(e), w...); },
          p.refs());
    }
  }
  using input_type = In;
  using params_type = typename layer_t<L>::template params<typename In::scalar_type>;
  using program = decltype(make(std::declval<const In&>(),
                                std::declval<std::conditional_t<Train, params_type&, const params_type&>>()));
  using output = std::conditional_t<is_invalid_v<typename program::expression_type>, invalid_boundary,
                                    boundary_of_t<typename program::expression_type>>;
  /// Whether this layer's program has a backward pass (a first layer without parameters has none).
  static constexpr bool has_backward = Train && program::requested > 0;
  /// Whether this layer shares its program with the other checkpointed layers of its type
  /// (layers/checkpoint.hpp): a Checkpoint after the first layer, in a training chain.
  static constexpr bool checkpointed = has_backward && checkpoint_layer<layer_t<L>> && is_boundary_v<In> &&
                                       !is_invalid_v<typename program::expression_type>;
};

/// The stages of layers L... applied to an input tensor type In (`type`, a layer_list of stages),
/// and the boundary type of their output (`output`).
template <bool Train, class In, class Done, class... L>
struct plan_stages {
  using type = Done;
  using output = In;
};
template <bool Train, class In, class... Done, class H, class... T>
struct plan_stages<Train, In, layer_list<Done...>, H, T...>
    : plan_stages<Train, typename stage<H, In, Train>::output, layer_list<Done..., stage<H, In, Train>>, T...> {};

template <bool Train, class In, class Layers>
struct stages_of;
template <bool Train, class In, class... L>
struct stages_of<Train, In, layer_list<L...>> : plan_stages<Train, In, layer_list<>, L...> {};

/// Layer K's program, and the boundary the next layer reads its value through.
template <std::size_t K, class Stage>
struct link {
  using stage_type = Stage;
  typename Stage::program program;
  typename Stage::output out;
  template <class In, class P, class Links>
  link(const In& in, P& p, Links&) : program(Stage::make(in, p)), out{&program.value()} {}
  void forward() { program.forward(); }
  template <class Seed>
  void backward(const Seed& seed) {
    program.backward(seed);
  }
  const auto& value() const { return program.value(); }
  /// The adjoint of this layer's input, after backward (the previous layer's seed).
  const auto& input_gradient() const { return program.template gradient<Stage::program::requested - 1>(); }
  template <class F>
  void for_each_workspace(F&& f) {
    program.for_each_workspace(f);
  }
};

/// The program the checkpointed layers of one stage type share (layers/checkpoint.hpp), built over
/// an input boundary and parameter views of its own that are re-pointed at the layer it runs.
template <class Stage>
struct checkpoint_group {
  using In = typename Stage::input_type;
  using params_type = typename Stage::params_type;
  using program_type = typename Stage::program;
  using gradient_type = std::remove_cvref_t<
      decltype(std::declval<const program_type&>().template gradient<program_type::requested - 1>())>;
  In in;
  params_type params;
  program_type program;
  gradient_type input_gradient;  // the adjoint of the input of the layer backward ran last
  const void* fresh = nullptr;   // the layer whose forward values the program holds, if any

  template <class P>
  checkpoint_group(const In& first, P& p) : in(first), params(views_of(p)), program(Stage::make(in, params)) {
    input_gradient = program.template gradient<program_type::requested - 1>();
  }
  checkpoint_group(const checkpoint_group&) = delete;  // the program refers to `in` and `params`
  checkpoint_group& operator=(const checkpoint_group&) = delete;

  /// Points the program at a layer: its input, and its weights and gradient memory.
  template <class P>
  void bind(const In& input, P& p) {
    in.source = input.source;
    if constexpr (!std::is_same_v<decltype(p.refs()), std::tuple<>>) {  // a layer with parameters
      if (std::get<0>(params.refs()).value().data() != std::get<0>(p.refs()).value().data()) {
        params.~params_type();  // the program's leaves point into `params`: rebuilt where it was
        ::new (static_cast<void*>(&params)) params_type(views_of(p));
        program.rebind_gradients();
      }
    }
  }

 private:
  /// New views of the memory p's views show (p's parameters are contiguous, first view first).
  template <class P>
  static params_type views_of(P& p) {
    using S = typename In::scalar_type;
    S* value = nullptr;
    S* gradient = nullptr;
    if constexpr (!std::is_same_v<decltype(p.refs()), std::tuple<>>) {  // a layer with parameters
      value = std::get<0>(p.refs()).value().data();
      gradient = std::get<0>(p.refs()).gradient().data();
    }
    return params_type(value, gradient);
  }
};

/// A checkpointed layer K (layers/checkpoint.hpp): its input, its weights and its output, run
/// through its group's program. The first of its type (`Leader`) owns the group.
template <std::size_t K, class Stage, std::size_t Leader>
struct checkpoint_link {
  using stage_type = Stage;
  using group_type = checkpoint_group<Stage>;
  std::unique_ptr<group_type> owned;  // the leader's
  group_type* group;
  const typename Stage::input_type* input;
  typename Stage::params_type* params;
  std::remove_cvref_t<decltype(std::declval<const typename Stage::program&>().value())> saved;  // the output
  typename Stage::output out;

  template <class In, class P, class Links>
  checkpoint_link(const In& in, P& p, Links& all)
      : owned(K == Leader ? std::make_unique<group_type>(in, p) : nullptr),
        group(K == Leader ? owned.get() : leader_of(all)),
        input(&in),
        params(&p),
        saved(group->program.value()),
        out{&saved} {}

  void forward() {
    group->bind(*input, *params);
    group->program.forward();
    saved = group->program.value();
    group->fresh = this;
  }
  template <class Seed>
  void backward(const Seed& seed) {
    if (group->fresh != this) {  // the last of its group to run forward needs no recomputation
      group->bind(*input, *params);
      group->program.forward();
    }
    group->fresh = nullptr;
    group->program.backward(seed);
    group->input_gradient = group->program.template gradient<Stage::program::requested - 1>();
  }
  const auto& value() const { return saved; }
  const auto& input_gradient() const { return group->input_gradient; }
  template <class F>
  void for_each_workspace(F&& f) {
    if constexpr (K == Leader) group->program.for_each_workspace(f);
  }

 private:
  template <class Links>
  static group_type* leader_of(Links& all);
};

template <std::size_t K, class Stage>
Stage stage_at(const link<K, Stage>&);
template <std::size_t K, class Stage, std::size_t L>
Stage stage_at(const checkpoint_link<K, Stage, L>&);
template <std::size_t K, class Stage>
link<K, Stage>& link_at(link<K, Stage>& l) {
  return l;
}
template <std::size_t K, class Stage>
const link<K, Stage>& link_at(const link<K, Stage>& l) {
  return l;
}
template <std::size_t K, class Stage, std::size_t L>
checkpoint_link<K, Stage, L>& link_at(checkpoint_link<K, Stage, L>& l) {
  return l;
}
template <std::size_t K, class Stage, std::size_t L>
const checkpoint_link<K, Stage, L>& link_at(const checkpoint_link<K, Stage, L>& l) {
  return l;
}

template <std::size_t K, class Stage, std::size_t Leader>
template <class Links>
auto checkpoint_link<K, Stage, Leader>::leader_of(Links& all) -> group_type* {
  if constexpr (K == Leader)
    return nullptr;
  else
    return link_at<Leader>(all).group;  // constructed already: an earlier base of `all`
}

/// The first index of St among All (the leader of a checkpoint group).
template <class St, class... All>
constexpr std::size_t first_of() {
  constexpr bool same[] = {__is_same(St, All)...};
  for (std::size_t i = 0; i < sizeof...(All); ++i)
    if (same[i]) return i;
  return sizeof...(All);
}

/// Layer K's link: its own program, or its checkpoint group's.
template <std::size_t K, class St, std::size_t Leader>
using link_for = std::conditional_t<St::checkpointed, checkpoint_link<K, St, Leader>, link<K, St>>;

template <class Layers, class Stages, class Indices>
struct links;
template <class Layers, class... St, std::size_t... K>
struct links<Layers, layer_list<St...>, std::index_sequence<K...>> : link_for<K, St, first_of<St, St...>()>... {
  template <class In, class P>
  links(const In& x, P& params)
      : link_for<K, St, first_of<St, St...>()>(input_of<K>(x), stage_params<K, Layers>(params), *this)... {}

 private:
  template <std::size_t J, class In>
  const auto& input_of(const In& x) const {
    if constexpr (J == 0)
      return x;
    else
      return link_at<J - 1>(*this).out;
  }
};

/// A network's layers compiled one program each (the file comment). `Train`: with gradients.
template <class Net, int Batch, bool Train>
class chain {
  using layers = typename Net::layers;
  using S = typename Net::scalar_type;
  using stage_list = stages_of<Train, Tensor<S, Batch, Net::in>, typename top_layers<layers>::type>;
  template <class L>
  struct count;
  template <class... St>
  struct count<layer_list<St...>> {
    static constexpr std::size_t value = sizeof...(St);
  };
  static constexpr std::size_t n = count<typename stage_list::type>::value;

  using links_type = links<layers, typename stage_list::type, std::make_index_sequence<n>>;

 public:
  using input_type = Tensor<S, Batch, Net::in>;
  /// The boundary the loss reads the network's output through.
  using output_type = typename stage_list::output;

  template <class P>
  chain(const input_type& x, P& params) : links_(x, params) {
    // a Checkpoint below the top level: one diagnostic
    []<class... L>(layer_list<L...>) { (check_checkpoint_at_top<L>(), ...); }(typename top_layers<layers>::type{});
  }
  chain(const chain&) = delete;  // programs refer to each other's storage
  chain& operator=(const chain&) = delete;

  void forward() {
    [&]<std::size_t... K>(std::index_sequence<K...>) { (link_at<K>(links_).forward(), ...); }
    (std::make_index_sequence<n>{});
  }
  /// Backward from `seed`, the adjoint of the network's output, to every parameter.
  template <class Seed>
  void backward(const Seed& seed) requires Train {
    [&]<std::size_t... K>(std::index_sequence<K...>) { (backward_at<n - 1 - K>(seed), ...); }
    (std::make_index_sequence<n>{});
  }
  /// The network's output (after forward()).
  const auto& value() const { return link_at<n - 1>(links_).value(); }
  /// Bytes of activations the layers keep for backward (`Program::storage_bytes`): each layer's
  /// program, or, for checkpointed layers, each one's output and one program per type.
  static constexpr std::size_t activation_bytes(Index batch) {
    return [batch]<class... St, std::size_t... K>(layer_list<St...>, std::index_sequence<K...>) {
      return (stage_bytes<K, St, first_of<St, St...>()>(batch) + ... + std::size_t{0});
    }(typename stage_list::type{}, std::make_index_sequence<n>{});
  }
  /// Every layer program's `for_each_workspace(f)`, in layer order (a Trainer finds its taps).
  template <class F>
  void for_each_workspace(F&& f) {
    [&]<std::size_t... K>(std::index_sequence<K...>) { (link_at<K>(links_).for_each_workspace(f), ...); }
    (std::make_index_sequence<n>{});
  }
  const output_type& output() const { return link_at<n - 1>(links_).out; }

 private:
  template <std::size_t K, class St, std::size_t Leader>
  static constexpr std::size_t stage_bytes(Index batch) {
    using P = typename St::program;
    if constexpr (!St::checkpointed) {
      return P::storage_bytes(batch);
    } else {
      using In = typename St::input_type;
      using Out = typename St::output;
      constexpr std::size_t scalar = sizeof(typename In::scalar_type);
      const std::size_t saved = value_bytes({Out::rows_at_compile_time, Out::cols_at_compile_time}, batch, scalar);
      if constexpr (K != Leader)
        return saved;
      else  // the leader holds the group: its program and the adjoint it passes on
        return saved + P::storage_bytes(batch) +
               value_bytes({In::rows_at_compile_time, In::cols_at_compile_time}, batch, scalar);
    }
  }

  template <std::size_t K, class Seed>
  void backward_at(const Seed& seed) {
    using St = decltype(stage_at<K>(links_));
    if constexpr (St::has_backward) {
      if constexpr (K + 1 == n) {
        link_at<K>(links_).backward(seed);
      } else {
        using Next = decltype(stage_at<K + 1>(links_));
        if constexpr (!is_invalid_v<typename Next::program::expression_type>)  // else: diagnosed, nothing runs
          link_at<K>(links_).backward(link_at<K + 1>(links_).input_gradient());
      }
    }
  }

  links_type links_;
};

/// A network whose widths do not fit: the Sequential's one diagnostic, then nothing more.
template <class Net, int Batch, bool Train>
requires(!widths_ok<typename Net::layers>()) class chain<Net, Batch, Train> {
  using S = typename Net::scalar_type;

 public:
  using input_type = Tensor<S, Batch, Net::in>;
  using output_type = boundary<S, Batch, Net::out>;
  template <class P>
  chain(const input_type& x, P& params) {
    (void)Net::layers::apply(input(x), params);  // layer_width_mismatch<...>
  }
  void forward() {}
  template <class Seed>
  void backward(const Seed&) {}
  static constexpr std::size_t activation_bytes(Index) { return 0; }
  const auto& value() const { return *out_.source; }
  const output_type& output() const { return out_; }
  template <class F>
  void for_each_workspace(F&&) {}

 private:
  output_type out_{};
};

}  // namespace tapeless::detail
