/// @file
/// @brief `Tap<Layer, Name>`: a layer whose output's value and gradient can be read after a step
/// and seen by a hook during backward; `tap_every_t<Kind, Net>`: every layer of a kind tapped.
///
/// The reference notes register a hook on every ReLU at run time (002, "모든 ReLU에 hook 등록").
/// Here the taps are part of the network's type:
///
///     using Net = Network<Sequential<Linear<4, 16>, Tap<ReLU>, Linear<16, 3>>>;
///     using Every = tap_every_t<ReLU, Network<Sequential<Linear<4, 16>, ReLU, Linear<16, 3>>>>;
///
/// `Tap<L>` computes what L computes, through `tap()` (ops/tap.hpp), and is otherwise L: the same
/// widths, parameters, parameter names, initialisation and architecture text, so a tapped
/// network loads the untapped one's files and the same weights give the same results to the bit.
/// A Trainer lists its network's taps (`Trainer::tap`, `Trainer::on_tap`), named by `Name` or,
/// without one, by the layer's path as PyTorch's `named_modules()` spells it ("1", "2.block.1").
///
/// The cost is in the type, and only there: a network without taps compiles to the program it
/// always did; each tap copies its value once forward and its adjoint once backward.
#pragma once

#include "tapeless/core/error.hpp"
#include "tapeless/layers/layer.hpp"
#include "tapeless/ops/tap.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace tapeless {

/// A string as a template argument: `Tap<ReLU, "relu1">`.
template <std::size_t N>
struct fixed_string {
  char text[N]{};
  constexpr fixed_string(const char (&s)[N]) { std::copy_n(s, N, text); }  // NOLINT: implicit by design
  constexpr std::string_view view() const { return {text, N - 1}; }
};

/// Layer L with its output tapped (the file comment). `Name`: the tap's name; empty (the
/// default) for the layer's path in the network.
template <class L, fixed_string Name = "">
struct Tap {
  static constexpr int in = layer_t<L>::in;
  static constexpr int out = layer_t<L>::out;
  static constexpr Index parameter_size = layer_t<L>::parameter_size;
  /// The tapped layer (also read by the default initialisation, like Residual's block).
  using block_type = L;
  static constexpr std::string_view tap_name = Name.view();

  template <class S>
  using params = typename layer_t<L>::template params<S>;

  template <class X, class P>
  static auto apply(X&& x, const P& p) {
    return tap(layer_t<L>::apply(std::forward<X>(x), p));
  }
  /// The tapped layer's text: a tap changes no architecture (model files load across).
  static std::string describe() { return describe_layer<layer_t<L>>(); }
  template <class P, class F>
  static void visit(P& p, const std::string& prefix, F&& f) {
    layer_t<L>::visit(p, prefix, std::forward<F>(f));
  }
  template <class P>
  static void init(P& p, Init how, Rng& rng) {
    layer_t<L>::init(p, how, rng);
  }
};

// Declared only: a Trainer includes this header, and need not pay for what it does not use.
template <class... L>
struct Sequential;
template <class Block, class Scale>
struct Residual;
template <class Layers, class S>
class Network;

namespace detail {
template <class Kind, class L>
struct tap_every;
/// Below a layer that is not of the kind: into a Sequential's layers and a Residual's block.
template <class Kind, class L>
struct tap_inside {
  using type = L;
};
template <class Kind, class... L>
struct tap_inside<Kind, Sequential<L...>> {
  using type = Sequential<typename tap_every<Kind, L>::type...>;
};
template <class Kind, class B, class Scale>
struct tap_inside<Kind, Residual<B, Scale>> {
  using type = Residual<typename tap_every<Kind, B>::type, Scale>;
};
template <class Kind, class L, fixed_string Name>
struct tap_inside<Kind, Tap<L, Name>> {  // tapped already
  using type = Tap<L, Name>;
};
template <class Kind, class Layers, class S>
struct tap_inside<Kind, Network<Layers, S>> {
  using type = Network<typename tap_every<Kind, Layers>::type, S>;
};
template <class Kind, class L>
struct tap_every {
  using type = std::conditional_t<std::is_same_v<Kind, L>, Tap<L>, typename tap_inside<Kind, L>::type>;
};

/// Whether layer L is a Tap.
template <class L>
concept tap_layer = requires {
  L::tap_name;
};

inline std::string join_path(std::string_view path, std::string_view child) {
  return path.empty() ? std::string(child) : std::string(path) + "." + std::string(child);
}

/// Instantiated for a Checkpoint whose block holds a Tap: a checkpoint keeps no interior value
/// for the tap to show.
template <class Checkpointed>
struct tap_inside_checkpoint {
  static_assert(always_false<Checkpointed>,
                "tapeless::Tap inside a Checkpoint: a checkpoint does not keep its block's interior values, so a "
                "tap there has nothing to show; inspect a network of the same layers without the Checkpoint (it "
                "has the same weights and files)");
};

/// How many taps layer L holds, at any depth.
template <class L>
constexpr std::size_t tap_count() {
  if constexpr (requires { typename L::layer_types; })
    return []<class... C>(layer_list<C...>) { return (tap_count<layer_t<C>>() + ... + 0); }(typename L::layer_types{});
  else if constexpr (requires { L::checkpointed; })  // layers/checkpoint.hpp: none inside (check_taps)
    return std::size_t{0};
  else if constexpr (tap_layer<L>)
    return 1 + tap_count<layer_t<typename L::block_type>>();
  else if constexpr (requires { typename L::block_type; })
    return tap_count<layer_t<typename L::block_type>>();
  else
    return 0;
}

/// The one diagnostic for a Tap inside a Checkpoint of layer L (not in a constant expression,
/// where clang would add more errors).
template <class L>
void check_taps() {
  if constexpr (requires { typename L::layer_types; })
    []<class... C>(layer_list<C...>) { (check_taps<layer_t<C>>(), ...); }(typename L::layer_types{});
  else if constexpr (requires { L::checkpointed; }) {
    if constexpr (tap_count<layer_t<typename L::block_type>>() > 0) (void)sizeof(tap_inside_checkpoint<L>);
  } else if constexpr (requires { typename L::block_type; })
    check_taps<layer_t<typename L::block_type>>();
}

template <class L>
void tap_names(std::string_view path, std::vector<std::string>& out);
template <class... C>
void tap_names_of(layer_list<C...>, std::string_view path, std::vector<std::string>& out) {
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    (tap_names<layer_t<C>>(join_path(path, std::to_string(K)), out), ...);
  }
  (std::index_sequence_for<C...>{});
}
/// Appends the names of layer L's taps, at `path` in the network, in the order their nodes take
/// in the expression (post-order: a tap inside a tapped layer before the layer's own).
template <class L>
void tap_names(std::string_view path, std::vector<std::string>& out) {
  if constexpr (requires { typename L::layer_types; }) {
    tap_names_of(typename L::layer_types{}, path, out);
  } else if constexpr (tap_layer<L>) {
    tap_names<layer_t<typename L::block_type>>(path, out);
    out.emplace_back(!L::tap_name.empty() ? std::string(L::tap_name)
                     : path.empty()       ? describe_layer<layer_t<typename L::block_type>>()
                                          : std::string(path));
  } else if constexpr (
      requires { typename L::block_type; } && !requires { L::checkpointed; }) {
    tap_names<layer_t<typename L::block_type>>(join_path(path, "block"), out);  // Residual's
  }
}
}  // namespace detail

/// `Layers` (a layer, or a `Network`) with every layer of type `Kind` wrapped in `Tap<Kind>`, at
/// any depth (Sequential layers, Residual blocks): `tap_every_t<ReLU, Net>`.
template <class Kind, class Layers>
using tap_every_t = typename detail::tap_every<Kind, Layers>::type;

}  // namespace tapeless
