/// @file
/// @brief `Sequential<Layers...>`: layers applied one after the other, and `Residual<Block>`:
/// x + block(x), the reference notes' answer to vanishing gradients.
///
/// Adjacent widths are checked at compile time: a mismatch is one diagnostic,
/// `layer_width_mismatch<index, layer, outputs, index, layer, expects>`, naming both layers and
/// both widths; the network's expression is then `InvalidExpr`, so no cascade follows.
/// In `Residual`, the block reads x through a `Shared` leaf: x is in the expression once, its
/// adjoint sums the skip path and the block's path (docs/design.md, identity and fan-out).
#pragma once

#include "tapeless/core/error.hpp"
#include "tapeless/core/shared.hpp"
#include "tapeless/layers/layer.hpp"
#include "tapeless/ops/add.hpp"

#include <array>
#include <cstddef>
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

template <class S, class... L>
struct param_chain {
  using scalar = S;
  param_chain(S*&, S*&) {}
  std::tuple<> refs() { return {}; }
};
template <class S, class H, class... T>
struct param_chain<S, H, T...> {
  using scalar = S;
  typename layer_t<H>::template params<S> head;
  param_chain<S, T...> tail;
  param_chain(S*& value, S*& gradient) : head(value, gradient), tail(value, gradient) {}
  auto refs() { return std::tuple_cat(head.refs(), tail.refs()); }
};

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

  template <class S>
  struct params : detail::param_chain<S, L...> {
    using detail::param_chain<S, L...>::param_chain;
  };

  template <class X, class P>
  static auto apply(X&& x, const P& p) {
    if constexpr (!widths.ok) {
      using layers = std::tuple<L...>;
      (void)sizeof(layer_width_mismatch<widths.from, std::tuple_element_t<widths.from, layers>, widths.outputs,
                                        widths.to, std::tuple_element_t<widths.to, layers>, widths.expects>);
      return InvalidExpr{};
    } else {
      return apply_from<L...>(std::forward<X>(x), static_cast<const detail::param_chain<typename P::scalar, L...>&>(p));
    }
  }

  template <class P, class F>
  static void visit(P& p, const std::string& prefix, F&& f) {
    visit_from<0, L...>(static_cast<detail::param_chain<typename P::scalar, L...>&>(p), prefix, f);
  }

  template <class P>
  static void init(P& p, Init how, Rng& rng) {
    init_from<L...>(static_cast<detail::param_chain<typename P::scalar, L...>&>(p), how, rng);
  }

 private:
  template <class H, class... T, class X, class C>
  static auto apply_from(X&& x, const C& chain) {
    auto y = layer_t<H>::apply(std::forward<X>(x), chain.head);
    if constexpr (sizeof...(T) == 0)
      return y;
    else
      return apply_from<T...>(std::move(y), chain.tail);
  }
  template <std::size_t K, class H, class... T, class C, class F>
  static void visit_from(C& chain, const std::string& prefix, F& f) {
    layer_t<H>::visit(chain.head, prefix + std::to_string(K) + ".", f);
    if constexpr (sizeof...(T) > 0) visit_from<K + 1, T...>(chain.tail, prefix, f);
  }
  template <class H, class... T, class C>
  static void init_from(C& chain, Init how, Rng& rng) {
    layer_t<H>::init(chain.head, how, rng);
    if constexpr (sizeof...(T) > 0) init_from<T...>(chain.tail, how, rng);
  }
};

template <class Block>
struct Residual {
  static_assert(layer_t<Block>::in == layer_t<Block>::out,
                "tapeless::Residual<Block>: the block must keep the width (in == out)");
  static constexpr int in = layer_t<Block>::in;
  static constexpr int out = layer_t<Block>::out;
  static constexpr Index parameter_size = layer_t<Block>::parameter_size;

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
      return skip + layer_t<Block>::apply(skip, p);
    } else {
      // x once, then the block reads it through a Shared leaf: the tree grows by the block only
      auto block = layer_t<Block>::apply(Shared<E, detail::adjacent>{}, p);
      return std::forward<X>(x) + std::move(block);
    }
  }
  template <class P, class F>
  static void visit(P& p, const std::string& prefix, F&& f) {
    layer_t<Block>::visit(p, prefix + "block.", f);
  }
  template <class P>
  static void init(P& p, Init how, Rng& rng) {
    layer_t<Block>::init(p, how, rng);
  }
};

}  // namespace tapeless
