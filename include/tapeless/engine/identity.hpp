/// @file
/// @brief Construction-time identity: which positions are aliases, what each Shared leaf stands
/// for, and how often backward reaches each requested tensor.
///
/// Types alone never decide identity (docs/design.md §4). The plan lists, at compile time, the
/// positions whose identity is open: alias candidates (a later node of an earlier node's type)
/// and Shared leaves with their candidates. This pass decides them once, in one post-order walk,
/// from the leaves' identities (tensor addresses, constants) and the ops' state.
#pragma once

#include "tapeless/core/shared.hpp"
#include "tapeless/engine/state.hpp"

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

namespace tapeless::detail {

/// Binds the Shared leaf `e` at position Pos to the node to its left that matches its signature;
/// throws std::invalid_argument if none does, or if two that compute different things do.
template <std::size_t Pos, class State, class E>
void bind_shared(State& s, const E& e, const std::array<const void*, State::size>& nodes) {
  using plan = typename State::plan;
  constexpr auto& cs = plan::template candidates<Pos>;
  static_assert(cs.size() > 0, "tapeless::shared(x) must stand to the right of x in the same expression");
  if constexpr (!plan::adjacent[Pos]) {
    using Target = typename referent<E>::type;
    auto node = [&](std::size_t p) -> const Target& { return *static_cast<const Target*>(nodes[p]); };
    std::size_t found = State::size;
    for (std::size_t p : cs) {
      if (!matches(e.ref, node(p))) continue;
      if (found == State::size)
        found = p;
      else if (!same_expr(node(found), node(p)))
        throw std::invalid_argument("tapeless::shared: the reference at position " + std::to_string(Pos) +
                                    " is ambiguous: nodes " + std::to_string(found) + " and " + std::to_string(p) +
                                    " both match it and differ");
    }
    if (found == State::size)
      throw std::invalid_argument("tapeless::shared: the node referred to at position " + std::to_string(Pos) +
                                  " is not to its left in this expression (shared(x) needs x itself as an "
                                  "operand to the left; nodes of its type there compute something else)");
    s.target[Pos] = found;
  }
}

/// Decides aliases and Shared targets (one post-order walk), then counts, for each requested
/// tensor, the leaf positions backward reaches it at (a walk over the live positions). Throws
/// std::invalid_argument for a requested tensor that backward never reaches.
template <class State>
void bind_identities(State& s) {
  using plan = typename State::plan;
  std::array<const void*, State::size> nodes{};
  visit<order::post, State::root>(s.expr, everywhere, [&](auto at, const auto& e) {
    constexpr std::size_t p = at();
    using E = std::remove_cvref_t<decltype(e)>;
    if constexpr (plan::candidate(p))
      s.alias[p] = same_expr(e, *static_cast<const E*>(nodes[plan::first[p]]));
    else if constexpr (is_shared_v<E>)
      bind_shared<p>(s, e, nodes);
    nodes[p] = &e;
  });
  visit<order::post, State::root>(s.expr, s.live_positions(), [&](auto, const auto& e) {
    using E = std::remove_cvref_t<decltype(e)>;
    if constexpr (is_leaf_v<E>)
      if constexpr (expr_traits<E>::kind == LeafKind::variable) s.for_each_wrt_of(e, [&](auto j) { ++s.uses[j]; });
  });
  for (std::size_t j = 0; j < s.uses.size(); ++j)
    if (s.uses[j] == 0)
      throw std::invalid_argument("tapeless::grad: requested tensor #" + std::to_string(j) +
                                  " is not an operand of the expression along a differentiable path");
}

}  // namespace tapeless::detail
