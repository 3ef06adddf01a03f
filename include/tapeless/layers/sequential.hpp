/// @file
/// @brief `Sequential<Layers...>`: layers applied one after the other, and
/// `Residual<Block, Scale>`: x + s block(x), the reference notes' answer to vanishing gradients.
///
/// Adjacent widths are checked at compile time: a mismatch is one diagnostic,
/// `layer_width_mismatch<index, layer, outputs, index, layer, expects>`, naming both layers and
/// both widths; the network's expression is then `InvalidExpr`, so no cascade follows.
/// In `Residual`, the block reads x through a `Shared` leaf: x is in the expression once, its
/// adjoint sums the skip path and the block's path (docs/design.md, identity and fan-out).
///
/// The branch scale s (a `std::ratio`, default 1) is what keeps a deep stack stable. Each
/// unscaled block adds its own output to x, so the second moment of x grows by about (1 + 1)
/// per block under He initialisation, and the adjoint with it: 16 unscaled blocks of Linear+ReLU
/// give first-layer gradients in the hundreds (flagged exploding). With s = 1/sqrt(blocks) the
/// growth is (1 + 1/blocks)^blocks < e, whatever the depth: `Residual<Block, std::ratio<1, 4>>`
/// for 16 blocks. s is a constant, not a parameter: the names and the parameter layout are the
/// unscaled block's, as in PyTorch's `x + s * self.block(x)`. Adjoint: dx = g + s (dblock/dx)^T g.
#pragma once

#include "tapeless/core/error.hpp"
#include "tapeless/core/shared.hpp"
#include "tapeless/detail/ratio.hpp"
#include "tapeless/layers/layer.hpp"
#include "tapeless/ops/add.hpp"
#include "tapeless/ops/mul.hpp"

#include <array>
#include <cstddef>
#include <ratio>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace tapeless {

/// Instantiated only when layer `From` (at index FromIndex) outputs `Outputs` values but the next
/// layer with a fixed width, `To` (at ToIndex), expects `Expects`.
template <std::size_t FromIndex, class From, int Outputs, std::size_t ToIndex, class To, int Expects>
struct layer_width_mismatch {
  static_assert(detail::always_false<From, To>,
                "tapeless::Sequential: a layer's output width is not the next layer's input width; the layers "
                "and widths are the template arguments of layer_width_mismatch<index, layer, outputs, index, "
                "layer, expects>");
};

namespace detail {

/// Layer K's parameters, as a base of `param_list` (bases are built in order: the cursors advance
/// layer by layer).
template <std::size_t K, class L, class S>
struct param_slot {
  typename layer_t<L>::template params<S> params;
  param_slot(S*& value, S*& gradient) : params(value, gradient) {}
};

template <class S, class Indices, class... L>
struct param_list;
template <class S, std::size_t... K, class... L>
struct param_list<S, std::index_sequence<K...>, L...> : param_slot<K, L, S>... {
  using scalar = S;
  param_list(S*& value, S*& gradient) : param_slot<K, L, S>(value, gradient)... {}
  auto refs() { return std::tuple_cat(static_cast<param_slot<K, L, S>&>(*this).params.refs()...); }
};

template <std::size_t K, class L, class S>
auto& layer_params(param_slot<K, L, S>& p) {
  return p.params;
}
template <std::size_t K, class L, class S>
const auto& layer_params(const param_slot<K, L, S>& p) {
  return p.params;
}

struct width_check {
  bool ok = true;
  std::size_t from = 0, to = 0;
  int outputs = 0, expects = 0;
};

template <class... L>
constexpr width_check check_widths() {
  constexpr std::array<int, sizeof...(L)> ins{layer_t<L>::in...}, outs{layer_t<L>::out...};
  width_check r;
  int width = any_width;
  std::size_t producer = 0;
  for (std::size_t k = 0; k < sizeof...(L); ++k) {
    if (ins[k] != any_width && width != any_width && ins[k] != width) return {false, producer, k, width, ins[k]};
    if (outs[k] != any_width) {
      width = outs[k];
      producer = k;
    }
  }
  return r;
}

template <class... L>
constexpr int first_in() {
  for (int w : {layer_t<L>::in...})
    if (w != any_width) return w;
  return any_width;
}
template <class... L>
constexpr int last_out() {
  int out = any_width;
  for (int w : {layer_t<L>::out...})
    if (w != any_width) out = w;
  return out;
}

}  // namespace detail

template <class... L>
struct Sequential {
  static_assert(sizeof...(L) > 0, "tapeless::Sequential needs at least one layer");
  static constexpr detail::width_check widths = detail::check_widths<L...>();
  static constexpr int in = detail::first_in<L...>();
  static constexpr int out = detail::last_out<L...>();
  static constexpr Index parameter_size = (layer_t<L>::parameter_size + ... + 0);

  /// The layers, as a type list (network/chain.hpp compiles a network layer by layer).
  using layer_types = detail::layer_list<L...>;

  /// Each layer's parameters, built in order; `layer<K>()` is layer K's.
  template <class S>
  struct params : detail::param_list<S, std::index_sequence_for<L...>, L...> {
    using detail::param_list<S, std::index_sequence_for<L...>, L...>::param_list;
    template <std::size_t K>
    auto& layer() {
      return detail::layer_params<K>(*this);
    }
    template <std::size_t K>
    const auto& layer() const {
      return detail::layer_params<K>(*this);
    }
  };

  template <class X, class P>
  static auto apply(X&& x, const P& p) {
    if constexpr (!widths.ok) {
      using layers = std::tuple<L...>;
      (void)sizeof(layer_width_mismatch<widths.from, std::tuple_element_t<widths.from, layers>, widths.outputs,
                                        widths.to, std::tuple_element_t<widths.to, layers>, widths.expects>);
      return InvalidExpr{};
    } else {
      return apply_from<0, L...>(std::forward<X>(x), p);
    }
  }

  /// "Sequential(Linear(784, 256), ReLU, Linear(256, 10))"
  static std::string describe() {
    std::string text = "Sequential(";
    ((text += describe_layer<layer_t<L>>() + ", "), ...);
    text.resize(text.size() - 2);
    return text + ")";
  }

  template <class P, class F>
  static void visit(P& p, const std::string& prefix, F&& f) {
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      (layer_t<L>::visit(detail::layer_params<K>(p), prefix + std::to_string(K) + ".", f), ...);
    }
    (std::index_sequence_for<L...>{});
  }

  template <class P>
  static void init(P& p, Init how, Rng& rng) {
    [&]<std::size_t... K>(std::index_sequence<K...>) { (layer_t<L>::init(detail::layer_params<K>(p), how, rng), ...); }
    (std::index_sequence_for<L...>{});
  }

 private:
  template <std::size_t K, class H, class... T, class X, class P>
  static auto apply_from(X&& x, const P& p) {
    auto y = layer_t<H>::apply(std::forward<X>(x), detail::layer_params<K>(p));
    if constexpr (sizeof...(T) == 0)
      return y;
    else
      return apply_from<K + 1, T...>(std::move(y), p);
  }
};

/// x + s block(x), s = Scale::num / Scale::den (a `std::ratio`; the default, 1, multiplies
/// nothing). See the file comment for choosing s.
template <class Block, class Scale = std::ratio<1>>
struct Residual {
  static_assert(layer_t<Block>::in == layer_t<Block>::out,
                "tapeless::Residual<Block>: the block must keep the width (in == out)");
  static_assert(detail::ratio_value<Scale> != 0,
                "tapeless::Residual<Block, Scale>: Scale is the branch scale as a nonzero std::ratio, e.g. "
                "std::ratio<1, 4>");
  static constexpr int in = layer_t<Block>::in;
  static constexpr int out = layer_t<Block>::out;
  static constexpr Index parameter_size = layer_t<Block>::parameter_size;
  using block_type = Block;
  /// The branch scale, as a double.
  static constexpr double scale = detail::ratio_value<Scale>;

  template <class S>
  using params = typename layer_t<Block>::template params<S>;

  template <class X, class P>
  static auto apply(X&& x, const P& p) {
    using E = as_expr_t<X&&>;
    if constexpr (is_invalid_v<E>) {
      return InvalidExpr{};
    } else if constexpr (is_leaf_v<E>) {
      // a leaf is a pointer (or, for a tensor rvalue, a Constant holding its value: never a Var
      // pointing at the temporary): using it twice costs nothing
      auto skip = as_expr(std::forward<X>(x));
      return skip + branch(layer_t<Block>::apply(skip, p));
    } else {
      // x once, then the block reads it through a Shared leaf: the tree grows by the block only
      auto block = branch(layer_t<Block>::apply(Shared<E, detail::adjacent>{}, p));
      return std::forward<X>(x) + std::move(block);
    }
  }
  /// "Residual(Sequential(Linear(32, 32), ReLU))", "Residual(..., scale 1/4)"
  static std::string describe() {
    return "Residual(" + describe_layer<layer_t<Block>>() +
           (scale == 1 ? "" : ", scale " + detail::ratio_text<Scale>()) + ")";
  }

  template <class P, class F>
  static void visit(P& p, const std::string& prefix, F&& f) {
    layer_t<Block>::visit(p, prefix + "block.", f);
  }
  template <class P>
  static void init(P& p, Init how, Rng& rng) {
    layer_t<Block>::init(p, how, rng);
  }

 private:
  template <class B>
  static auto branch(B&& block) {
    if constexpr (scale == 1 || is_invalid_v<std::remove_cvref_t<B>>)
      return std::forward<B>(block);
    else
      return scale * std::forward<B>(block);
  }
};

}  // namespace tapeless
