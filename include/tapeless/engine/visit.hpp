/// @file
/// @brief The one walk of an expression tree that every pass of a program uses.
///
/// Positions are numbered in post-order (engine/plan.hpp) and are template arguments: a walk is
/// unrolled at compile time into straight-line calls, one per position. `visit` takes a node apart
/// (the index-sequence idiom lives here and nowhere else) and calls a pass's callbacks:
/// - `enter(at<P>, e)`: whether to visit position P and its subtree at all. It may return
///   `std::false_type` (pruned at compile time: no code for the subtree is instantiated), `true_type`,
///   or a run-time `bool` (an alias is skipped).
/// - `f(at<P>, e)`: the pass's work at P, after P's operands (`order::post`: forward, planning) or
///   before them, operands right to left (`order::reverse_pre`: backward). Both orders visit a node
///   only when everything it depends on (post) or everything that depends on it (reverse) is done.
/// `with_operands<P>(node, read, f)` calls `f(read(at<p_0>, operand_0), read(at<p_1>, operand_1), ...)`
/// to hand an op its operands' values.
#pragma once

#include "tapeless/engine/plan.hpp"

#include <boost/hana/basic_tuple.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

namespace tapeless::detail {

/// A position as a type: `at<3>{}`.
template <std::size_t P>
using at = std::integral_constant<std::size_t, P>;

enum class order { post, reverse_pre };

template <std::size_t Pos, class N, class Read, class F>
decltype(auto) with_operands(const N& n, Read&& read, F&& f) {
  constexpr auto& cp = child_positions<N, Pos>;
  return [&]<std::size_t... K>(std::index_sequence<K...>)->decltype(auto) {
    return f(read(at<cp[K]>{}, boost::hana::at_c<K>(n.args))...);
  }
  (std::make_index_sequence<cp.size()>{});
}

template <order O, std::size_t Pos, class E, class Enter, class F>
void visit(const E& e, Enter&& enter, F&& f) {
  using entered = decltype(enter(at<Pos>{}, e));
  if constexpr (!std::is_same_v<entered, std::false_type>) {
    if constexpr (!std::is_same_v<entered, std::true_type>)
      if (!enter(at<Pos>{}, e)) return;
    if constexpr (O == order::reverse_pre) f(at<Pos>{}, e);
    if constexpr (!is_leaf_v<E>) {
      constexpr auto& cp = child_positions<E, Pos>;
      constexpr std::size_t n = cp.size();
      [&]<std::size_t... K>(std::index_sequence<K...>) {
        if constexpr (O == order::post)
          (visit<O, cp[K]>(boost::hana::at_c<K>(e.args), enter, f), ...);
        else
          (visit<O, cp[n - 1 - K]>(boost::hana::at_c<n - 1 - K>(e.args), enter, f), ...);
      }
      (std::make_index_sequence<n>{});
    }
    if constexpr (O == order::post) f(at<Pos>{}, e);
  }
}

/// An `enter` that visits every position.
inline constexpr auto everywhere = [](auto, const auto&) { return std::true_type{}; };

}  // namespace tapeless::detail
