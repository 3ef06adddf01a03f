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
#include "tapeless/detail/owned.hpp"
#include "tapeless/engine/program.hpp"
#include "tapeless/layers/checkpoint.hpp"
#include "tapeless/layers/layer.hpp"
#include "tapeless/network/precision.hpp"

#include <cstddef>
#include <cstdint>
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
  using layer = layer_t<L>;
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

/// Under mixed precision (network/precision.hpp), rounds every value of a layer's program to the
/// storage format (after its forward), or the adjoint of its input (after its backward).
template <class Precision, class Program>
void round_values(Program& program) {
  if constexpr (precision_traits<Precision>::mixed) program.for_each_value([](auto& v) { round_matrix<Precision>(v); });
}
template <class Precision, class Stage, class Program>
void round_input_gradient(Program& program) {
  if constexpr (precision_traits<Precision>::mixed && is_boundary_v<typename Stage::input_type>)
    round_matrix<Precision>(program.template gradient<Program::requested - 1>());
}

/// What precedes the first layer (the batch): nothing a layer's backward reads through it.
struct no_link {};

/// Layer K's program, and the boundary the next layer reads its value through.
template <std::size_t K, class Stage, class Precision>
struct link {
  using stage_type = Stage;
  static constexpr bool stored = false;
  typename Stage::program program;
  typename Stage::output out;
  template <class In, class P, class Links>
  link(const In& in, P& p, Links&) : program(Stage::make(in, p)), out{&program.value()} {}
  void forward() {
    program.forward();
    round_values<Precision>(program);
  }
  template <class Seed, class Prev>
  void backward(const Seed& seed, const Prev&) {
    program.backward(seed);
    round_input_gradient<Precision, Stage>(program);
  }
  const auto& value() const { return program.value(); }
  /// This layer's output (after forward) into `dst`: what a stored next layer restores its input
  /// from.
  template <class M>
  void output_into(M& dst) const {
    dst = program.value();
  }
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
    bind_params(p);
  }
  /// Points the program at a layer's weights and gradient memory.
  template <class P>
  void bind_params(P& p) {
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

/// The group the leader of a checkpoint or stored group (link `Leader` of `all`) owns: what the
/// other layers of the group run (defined after `link_at`).
template <std::size_t Leader, class Group, class Links>
Group* leader_group(Links& all);

/// A checkpointed layer K (layers/checkpoint.hpp): its input, its weights and its output, run
/// through its group's program. The first of its type (`Leader`) owns the group.
template <std::size_t K, class Stage, std::size_t Leader, class Precision>
struct checkpoint_link {
  using stage_type = Stage;
  static constexpr bool stored = false;
  using group_type = checkpoint_group<Stage>;
  detail::owned<group_type> held;  // the leader's
  group_type* group;
  const typename Stage::input_type* input;
  typename Stage::params_type* params;
  std::remove_cvref_t<decltype(std::declval<const typename Stage::program&>().value())> saved;  // the output
  typename Stage::output out;

  template <class In, class P, class Links>
  checkpoint_link(const In& in, P& p, Links& all)
      : held(K == Leader ? detail::make_owned<group_type>(in, p) : nullptr),
        group(K == Leader ? held.get() : leader_group<Leader, group_type>(all)),
        input(&in),
        params(&p),
        saved(group->program.value()),
        out{&saved} {}

  void forward() {
    group->bind(*input, *params);
    group->program.forward();
    round_values<Precision>(group->program);
    saved = group->program.value();
    group->fresh = this;
  }
  template <class Seed, class Prev>
  void backward(const Seed& seed, const Prev&) {
    if (group->fresh != this) {  // the last of its group to run forward needs no recomputation
      group->bind(*input, *params);
      group->program.forward();
      round_values<Precision>(group->program);
    }
    group->fresh = nullptr;
    group->program.backward(seed);
    round_input_gradient<Precision, Stage>(group->program);
    group->input_gradient = group->program.template gradient<Stage::program::requested - 1>();
  }
  const auto& value() const { return saved; }
  template <class M>
  void output_into(M& dst) const {
    dst = saved;
  }
  const auto& input_gradient() const { return group->input_gradient; }
  template <class F>
  void for_each_workspace(F&& f) {
    if constexpr (K == Leader) group->program.for_each_workspace(f);
  }
};

/// The program the stored layers of one stage type share under mixed precision: a checkpoint
/// group whose input is a float copy of the running layer's input, which the previous layer's
/// program (perhaps this one) may overwrite.
template <class Stage>
struct stored_group : checkpoint_group<Stage> {
  std::remove_cvref_t<decltype(*std::declval<typename Stage::input_type>().source)> input_value;
  template <class P>
  stored_group(const typename Stage::input_type& first, P& p) : checkpoint_group<Stage>(first, p) {
    input_value = *first.source;
    this->in.source = &input_value;
  }
};

/// Whether every node of a program's expression keeps nothing but its value from forward to
/// backward (no workspace, or one its op declares scratch): such a program can be run for
/// several layers in turn, each restoring its values.
template <class E>
constexpr bool restorable_node() {
  if constexpr (is_leaf_v<E>)
    return true;
  else
    return []<class Op, class... A>(const Node<Op, A...>*) {
      return std::is_same_v<typename workspace_of<Op, A...>::type, none> || op_traits<Op>::workspace_is_scratch();
    }(static_cast<const E*>(nullptr));
}
template <class Expr>
constexpr bool restorable() {
  if constexpr (is_leaf_v<Expr> || is_invalid_v<Expr>)
    return false;
  else
    return []<class... T>(type_list<T...>) { return (restorable_node<T>() && ...); }(flatten_t<Expr>{});
}

/// A layer under mixed precision whose type occurs more than once (network/precision.hpp): its
/// values are kept in the storage format, and the group's program (owned by the first of its
/// type, `Leader`) runs it. Backward restores them into the program first, unless this layer
/// was the last of its group to run forward; its input comes from the previous layer
/// (`output_into`).
template <std::size_t K, class Stage, std::size_t Leader, class Precision>
struct stored_link {
  using stage_type = Stage;
  using group_type = stored_group<Stage>;
  static constexpr bool stored = true;
  static constexpr Half format = precision_traits<Precision>::format;
  detail::owned<group_type> held;  // the leader's
  group_type* group;
  const typename Stage::input_type* input;
  typename Stage::params_type* params;
  // the program's values, in order (a type that depends on Precision: instantiated only by a
  // network that stores values)
  Eigen::Matrix<typename precision_traits<Precision>::bits, Eigen::Dynamic, 1> kept;
  typename Stage::output out;  // the program's output: this layer's while it is fresh

  template <class In, class P, class Links>
  stored_link(const In& in, P& p, Links& all)
      : held(K == Leader ? detail::make_owned<group_type>(in, p) : nullptr),
        group(K == Leader ? held.get() : leader_group<Leader, group_type>(all)),
        input(&in),
        params(&p),
        out{&group->program.value()} {
    size_kept();
  }

  void forward() {
    group->input_value = *input->source;
    group->bind_params(*params);
    group->program.forward();
    size_kept();  // a new batch size
    std::size_t at = 0;
    group->program.for_each_value([&](auto& v) {
      round_matrix<Precision>(v);
      pack<format>(v.data(), kept.data() + at, static_cast<std::size_t>(v.size()));
      at += static_cast<std::size_t>(v.size());
    });
    group->fresh = this;
  }
  /// Makes the group's program hold this layer's values and input again.
  template <class Prev>
  void restore(const Prev& prev) {
    if (group->fresh == this) return;
    std::size_t at = 0;
    group->program.for_each_value([&](auto& v) {
      unpack<format>(kept.data() + at, v.data(), static_cast<std::size_t>(v.size()));
      at += static_cast<std::size_t>(v.size());
    });
    prev.output_into(group->input_value);
    group->bind_params(*params);
    group->fresh = this;
  }
  template <class Seed, class Prev>
  void backward(const Seed& seed, const Prev& prev) {
    restore(prev);
    group->fresh = nullptr;
    group->program.backward(seed);
    round_input_gradient<Precision, Stage>(group->program);
    group->input_gradient = group->program.template gradient<Stage::program::requested - 1>();
  }
  /// The output, valid after this layer's forward while no other layer of its group has run.
  const auto& value() const { return group->program.value(); }
  const auto& input_gradient() const { return group->input_gradient; }
  /// This layer's output, as kept (the program's last value), into `dst`.
  template <class M>
  void output_into(M& dst) const {
    const auto& v = group->program.value();
    dst.resize(v.rows(), v.cols());
    unpack<format>(kept.data() + kept.size() - v.size(), dst.data(), static_cast<std::size_t>(v.size()));
  }
  template <class F>
  void for_each_workspace(F&&) {}  // a stored program holds no tap (its ops' workspaces are scratch)

 private:
  /// Sizes `kept` for the program's values (allocates only when their size changed).
  void size_kept() {
    std::size_t total = 0;
    group->program.for_each_value([&](const auto& v) { total += static_cast<std::size_t>(v.size()); });
    if (static_cast<std::size_t>(kept.size()) != total) kept.resize(static_cast<Index>(total));
  }
};

template <std::size_t K, class Stage, class P>
Stage stage_at(const link<K, Stage, P>&);
template <std::size_t K, class Stage, std::size_t L, class P>
Stage stage_at(const checkpoint_link<K, Stage, L, P>&);
template <std::size_t K, class Stage, std::size_t L, class P>
Stage stage_at(const stored_link<K, Stage, L, P>&);
template <std::size_t K, class Stage, class P>
link<K, Stage, P>& link_at(link<K, Stage, P>& l) {
  return l;
}
template <std::size_t K, class Stage, class P>
const link<K, Stage, P>& link_at(const link<K, Stage, P>& l) {
  return l;
}
template <std::size_t K, class Stage, std::size_t L, class P>
checkpoint_link<K, Stage, L, P>& link_at(checkpoint_link<K, Stage, L, P>& l) {
  return l;
}
template <std::size_t K, class Stage, std::size_t L, class P>
const checkpoint_link<K, Stage, L, P>& link_at(const checkpoint_link<K, Stage, L, P>& l) {
  return l;
}
template <std::size_t K, class Stage, std::size_t L, class P>
stored_link<K, Stage, L, P>& link_at(stored_link<K, Stage, L, P>& l) {
  return l;
}
template <std::size_t K, class Stage, std::size_t L, class P>
const stored_link<K, Stage, L, P>& link_at(const stored_link<K, Stage, L, P>& l) {
  return l;
}

template <std::size_t Leader, class Group, class Links>
Group* leader_group(Links& all) {
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

/// Bytes a stored layer of stage St keeps (its values, 2 bytes each), and the leader of its
/// group besides (the shared program, and the float value and adjoint of the running layer's
/// input), with `batch` rows wherever a shape has the batch's.
template <class St>
constexpr std::size_t stored_bytes(Index batch, bool leader) {
  using P = typename St::program;
  using In = typename St::input_type;
  const std::size_t kept = P::value_count(batch) * sizeof(std::uint16_t);
  const std::size_t input =
      value_bytes({In::rows_at_compile_time, In::cols_at_compile_time}, batch, sizeof(typename In::scalar_type));
  return leader ? kept + P::storage_bytes(batch) + 2 * input : kept;
}

/// Whether layer K of stages All... keeps its values in the storage format under Precision (a
/// stored_link): mixed precision, a layer after the first and before the last whose program
/// can be restored, of a type that occurs at least twice before the last layer.
template <class Precision, std::size_t K, class St, class... All>
constexpr bool stored_at() {
  if constexpr (!precision_traits<Precision>::mixed || St::checkpointed || !St::has_backward ||
                !is_boundary_v<typename St::input_type>) {
    return false;
  } else if constexpr (!restorable<typename St::program::expression_type>()) {
    return false;
  } else {
    constexpr std::size_t n = sizeof...(All);
    constexpr bool same[] = {__is_same(St, All)...};
    std::size_t count = 0;
    for (std::size_t i = 0; i + 1 < n; ++i) count += same[i];
    // and only where it saves memory: count stored layers, one of them the group's leader,
    // against count programs (the bytes per row of batch)
    return K + 1 < n && count >= 2 &&
           (count - 1) * stored_bytes<St>(1, false) + stored_bytes<St>(1, true) < count * St::program::storage_bytes(1);
  }
}

/// Layer K's link: its own program, its checkpoint group's, or its stored group's.
template <std::size_t K, class St, std::size_t Leader, class Precision, bool Stored>
using link_for =
    std::conditional_t<St::checkpointed, checkpoint_link<K, St, Leader, Precision>,
                       std::conditional_t<Stored, stored_link<K, St, Leader, Precision>, link<K, St, Precision>>>;

template <class Layers, class Stages, class Indices, class Precision>
struct links;
template <class Layers, class... St, std::size_t... K, class Precision>
struct links<Layers, layer_list<St...>, std::index_sequence<K...>, Precision>
    : link_for<K, St, first_of<St, St...>(), Precision, stored_at<Precision, K, St, St...>()>... {
  template <class In, class P>
  links(const In& x, P& params)
      : link_for<K, St, first_of<St, St...>(), Precision, stored_at<Precision, K, St, St...>()>(
            input_of<K>(x), stage_params<K, Layers>(params), *this)... {}

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
template <class Net, int Batch, bool Train, class Precision = FullPrecision>
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

  using links_type = links<layers, typename stage_list::type, std::make_index_sequence<n>, Precision>;

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
      return (stage_bytes<K, St, first_of<St, St...>(), stored_at<Precision, K, St, St...>()>(batch) + ... +
              std::size_t{0});
    }(typename stage_list::type{}, std::make_index_sequence<n>{});
  }
  /// Every layer program's `for_each_workspace(f)`, in layer order (a Trainer finds its taps).
  template <class F>
  void for_each_workspace(F&& f) {
    [&]<std::size_t... K>(std::index_sequence<K...>) { (link_at<K>(links_).for_each_workspace(f), ...); }
    (std::make_index_sequence<n>{});
  }
  const output_type& output() const { return link_at<n - 1>(links_).out; }

  /// Whether a training step at one row can leave the parameter gradients to the optimizer's
  /// update (network/trainer.hpp): every layer with parameters is a Linear (an
  /// `outer_gradient_layer`) with a program of its own, at full precision.
  static constexpr bool outer_updates = [] {
    if constexpr (!Train || precision_traits<Precision>::mixed) {
      return false;
    } else {
      return []<class... St>(layer_list<St...>) {
        return ((outer_gradient_layer<typename St::layer> ? !St::checkpointed : St::layer::parameter_size == 0) && ...);
      }(typename stage_list::type{});
    }
  }();
  /// How many Linear layers for_each_outer visits.
  static constexpr std::size_t outer_layers = []<class... St>(layer_list<St...>) {
    return (std::size_t{outer_gradient_layer<typename St::layer>} + ... + std::size_t{0});
  }(typename stage_list::type{});
  /// Backward leaves the weight and bias gradients of every affine op (ops/affine.hpp,
  /// `deferred`) to the caller while `on`.
  void defer_outer(bool on) {
    for_each_workspace([on](auto& slot, auto) {
      if constexpr (requires { slot.work.deferred; }) slot.work.deferred = on;
    });
  }
  /// After a forward and a backward from `seed` at one row (`outer_updates`): calls
  /// f(in, out, x, g, layer_params) for every Linear layer, in layer order, with x its input row
  /// and g the adjoint of its output (`in` and `out` contiguous coefficients), and its parameters
  /// in `params` (the network's). `x` is the chain's input.
  template <class Seed, class P, class F>
  void for_each_outer(const input_type& x, const Seed& seed, P& params, F&& f) requires Train {
    [&]<class... St, std::size_t... K>(layer_list<St...>, std::index_sequence<K...>) {
      (
          [&] {
            if constexpr (outer_gradient_layer<typename St::layer>) {
              const S* in = nullptr;
              if constexpr (K == 0)
                in = x.value().data();
              else
                in = link_at<K - 1>(links_).value().data();
              const S* out = nullptr;
              if constexpr (K + 1 == n)
                out = seed.data();
              else
                out = link_at<K + 1>(links_).input_gradient().data();
              f(Index{St::layer::in}, Index{St::layer::out}, in, out, stage_params<K, layers>(params));
            }
          }(),
          ...);
    }(typename stage_list::type{}, std::make_index_sequence<n>{});
  }

 private:
  template <std::size_t K, class St, std::size_t Leader, bool Stored>
  static constexpr std::size_t stage_bytes(Index batch) {
    using P = typename St::program;
    if constexpr (Stored) {
      return stored_bytes<St>(batch, K == Leader);
    } else if constexpr (!St::checkpointed) {
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

  /// Link K's predecessor (the batch's `no_link` for the first layer).
  template <std::size_t K>
  const auto& previous() const {
    if constexpr (K == 0) {
      static constexpr no_link batch{};
      return batch;
    } else {
      return link_at<K - 1>(links_);
    }
  }

  template <std::size_t K, class Seed>
  void backward_at(const Seed& seed) {
    using St = decltype(stage_at<K>(links_));
    if constexpr (St::has_backward) {
      auto& here = link_at<K>(links_);
      // a layer reading a stored layer's output in its group's program: that output restored first
      if constexpr (K > 0 && !std::remove_cvref_t<decltype(here)>::stored)
        if constexpr (std::remove_cvref_t<decltype(link_at<K - 1>(links_))>::stored)
          link_at<K - 1>(links_).restore(previous<K - 1>());
      if constexpr (K + 1 == n) {
        here.backward(seed, previous<K>());
      } else {
        using Next = decltype(stage_at<K + 1>(links_));
        if constexpr (!is_invalid_v<typename Next::program::expression_type>)  // else: diagnosed, nothing runs
          here.backward(link_at<K + 1>(links_).input_gradient(), previous<K>());
      }
    }
  }

  links_type links_;
};

/// A network whose widths do not fit: the Sequential's one diagnostic, then nothing more.
template <class Net, int Batch, bool Train, class Precision>
requires(!widths_ok<typename Net::layers>()) class chain<Net, Batch, Train, Precision> {
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
  static constexpr bool outer_updates = false;
  static constexpr std::size_t outer_layers = 0;
  void defer_outer(bool) {}
  template <class Seed, class P, class F>
  void for_each_outer(const input_type&, const Seed&, P&, F&&) {}
  const auto& value() const { return *out_.source; }
  const output_type& output() const { return out_; }
  template <class F>
  void for_each_workspace(F&&) {}

 private:
  output_type out_{};
};

}  // namespace tapeless::detail
