/// @file
/// @brief `Checkpoint<Block>`: gradient checkpointing as a compile-time policy (reference note
/// 002, "Gradient Checkpointing"): the block's interior activations are not kept between the
/// forward and the backward pass; backward recomputes them from the block's input.
///
///     using Block = Residual<Sequential<Linear<256, 256>, ReLU>>;
///     using Deep = Sequential<Linear<784, 256>, ReLU, Checkpoint<Block>, Checkpoint<Block>, ...,
///                             Linear<256, 10>>;
///
/// A Trainer compiles each top-level layer of a network into its own program (network/chain.hpp).
/// The checkpointed layers of one type share one program instead: forward runs it on each
/// layer's input and weights in turn and keeps only the layer's output; backward runs it again
/// on that layer's input (the recomputation) and then backward from the adjoint of its output.
/// So k checkpointed layers of a type hold k outputs and one program's activations, where they
/// held k programs' activations: `Trainer::activation_bytes()` gives both, from the type. The
/// recomputed values are the same bits, and so are the gradients (tests/layers/checkpoint.cpp).
/// The price is one more forward pass of each checkpointed layer per step (docs/benchmarks.md).
///
/// Otherwise `Checkpoint<Block>` is Block: the same widths, parameters, names, initialisation
/// and architecture text (model files load across), and the same forward expression. It takes
/// effect at the top level of a network's Sequential, after its first layer (whose input is the
/// batch itself, so there is nothing to share); nested deeper, it does not compile
/// (`checkpoint_not_at_top_level`). A Predictor, which keeps no activations for backward, runs
/// a checkpointed layer as the plain block.
#pragma once

#include "tapeless/core/error.hpp"
#include "tapeless/layers/layer.hpp"

#include <string>
#include <utility>

namespace tapeless {

template <class Block>
struct Checkpoint {
  static constexpr int in = layer_t<Block>::in;
  static constexpr int out = layer_t<Block>::out;
  static constexpr Index parameter_size = layer_t<Block>::parameter_size;
  /// The checkpointed layer (the default initialisation reads it, as Residual's block).
  using block_type = Block;
  /// Marks the layer for the network compiler (network/chain.hpp) and the tap walk.
  static constexpr bool checkpointed = true;

  template <class S>
  using params = typename layer_t<Block>::template params<S>;

  template <class X, class P>
  static auto apply(X&& x, const P& p) {
    return layer_t<Block>::apply(std::forward<X>(x), p);
  }
  /// The block's text: a checkpoint changes no architecture (model files load across).
  static std::string describe() { return describe_layer<layer_t<Block>>(); }
  template <class P, class F>
  static void visit(P& p, const std::string& prefix, F&& f) {
    layer_t<Block>::visit(p, prefix, std::forward<F>(f));
  }
  template <class P>
  static void init(P& p, Init how, Rng& rng) {
    layer_t<Block>::init(p, how, rng);
  }
};

namespace detail {
/// Whether layer L is a Checkpoint.
template <class L>
concept checkpoint_layer = requires {
  L::checkpointed;
};

/// Whether layer L holds a Checkpoint at any depth below its top.
template <class L>
constexpr bool holds_checkpoint() {
  if constexpr (requires { typename L::layer_types; })
    return []<class... C>(layer_list<C...>) {
      return ((checkpoint_layer<layer_t<C>> || holds_checkpoint<layer_t<C>>()) || ...);
    }(typename L::layer_types{});
  else if constexpr (requires { typename L::block_type; })
    return checkpoint_layer<layer_t<typename L::block_type>> || holds_checkpoint<layer_t<typename L::block_type>>();
  else
    return false;
}
}  // namespace detail

/// Instantiated when a Checkpoint sits inside the top-level layer `Layer` of a network, where it
/// cannot take effect.
template <class Layer>
struct checkpoint_not_at_top_level {
  static_assert(detail::always_false<Layer>,
                "tapeless::Checkpoint: a checkpoint takes effect only as a top-level layer of a network's "
                "Sequential; the template argument of checkpoint_not_at_top_level is the top-level layer that "
                "holds one deeper down");
};

namespace detail {
/// The one diagnostic for a top-level layer L that holds a Checkpoint below its top (not in a
/// constant expression, where clang would add a second error).
template <class L>
void check_checkpoint_at_top() {
  if constexpr (holds_checkpoint<layer_t<L>>()) (void)sizeof(checkpoint_not_at_top_level<L>);
}
}  // namespace detail

}  // namespace tapeless
