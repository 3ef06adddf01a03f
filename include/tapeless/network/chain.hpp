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
#include "tapeless/layers/layer.hpp"

#include <cstddef>
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
  using params_type = typename layer_t<L>::template params<typename In::scalar_type>;
  using program = decltype(make(std::declval<const In&>(),
                                std::declval<std::conditional_t<Train, params_type&, const params_type&>>()));
  using output = std::conditional_t<is_invalid_v<typename program::expression_type>, invalid_boundary,
                                    boundary_of_t<typename program::expression_type>>;
  /// Whether this layer's program has a backward pass (a first layer without parameters has none).
  static constexpr bool has_backward = Train && program::requested > 0;
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
  typename Stage::program program;
  typename Stage::output out;
  template <class In, class P>
  link(const In& in, P& p) : program(Stage::make(in, p)), out{&program.value()} {}
};
template <std::size_t K, class Stage>
Stage stage_at(const link<K, Stage>&);
template <std::size_t K, class Stage>
link<K, Stage>& link_at(link<K, Stage>& l) {
  return l;
}
template <std::size_t K, class Stage>
const link<K, Stage>& link_at(const link<K, Stage>& l) {
  return l;
}

template <class Layers, class Stages, class Indices>
struct links;
template <class Layers, class... St, std::size_t... K>
struct links<Layers, layer_list<St...>, std::index_sequence<K...>> : link<K, St>... {
  template <class In, class P>
  links(const In& x, P& params) : link<K, St>(input_of<K>(x), stage_params<K, Layers>(params))... {}

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
  chain(const input_type& x, P& params) : links_(x, params) {}
  chain(const chain&) = delete;  // programs refer to each other's storage
  chain& operator=(const chain&) = delete;

  void forward() {
    [&]<std::size_t... K>(std::index_sequence<K...>) { (link_at<K>(links_).program.forward(), ...); }
    (std::make_index_sequence<n>{});
  }
  /// Backward from `seed`, the adjoint of the network's output, to every parameter.
  template <class Seed>
  void backward(const Seed& seed) requires Train {
    [&]<std::size_t... K>(std::index_sequence<K...>) { (backward_at<n - 1 - K>(seed), ...); }
    (std::make_index_sequence<n>{});
  }
  /// The network's output (after forward()).
  const auto& value() const { return link_at<n - 1>(links_).program.value(); }
  /// Every layer program's `for_each_workspace(f)`, in layer order (a Trainer finds its taps).
  template <class F>
  void for_each_workspace(F&& f) {
    [&]<std::size_t... K>(std::index_sequence<K...>) { (link_at<K>(links_).program.for_each_workspace(f), ...); }
    (std::make_index_sequence<n>{});
  }
  const output_type& output() const { return link_at<n - 1>(links_).out; }

 private:
  template <std::size_t K, class Seed>
  void backward_at(const Seed& seed) {
    using St = decltype(stage_at<K>(links_));
    if constexpr (St::has_backward) {
      auto& program = link_at<K>(links_).program;
      if constexpr (K + 1 == n) {
        program.backward(seed);
      } else {
        const auto& next = link_at<K + 1>(links_).program;
        using Next = std::remove_cvref_t<decltype(next)>;
        if constexpr (!is_invalid_v<typename Next::expression_type>)  // else: diagnosed, nothing runs
          program.backward(next.template gradient<Next::requested - 1>());
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
  const auto& value() const { return *out_.source; }
  const output_type& output() const { return out_; }
  template <class F>
  void for_each_workspace(F&&) {}

 private:
  output_type out_{};
};

}  // namespace tapeless::detail
