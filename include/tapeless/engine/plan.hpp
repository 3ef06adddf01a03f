/// @file
/// @brief The compile-time plan of an expression: its positions, their identities and activity.
///
/// An expression tree is numbered in post-order: position 0 is the left-most leaf, the root is the
/// last position. The plan, computed entirely at compile time from the expression type, says for
/// each position:
/// - `first[i]`: the first position of the same type. A later inner position of the same type is
///   an *alias candidate*: it may compute the same value as `first[i]` (the same sub-expression
///   copied into two places, as in `x + f(x)`). Whether it does is decided once, at run time, by
///   comparing the leaves' identities (`detail::same_expr`): type alone never decides identity.
/// - `candidates<i>` of a `Shared` leaf: the nodes to its left of the type it refers to. Which one
///   it stands for is decided once, at run time, from the signature the leaf carries
///   (core/shared.hpp); `Residual`'s leaf stands for the nearest, by construction.
/// - `shared[i]`: other inner positions share its type, or a Shared leaf may stand for it, so its
///   adjoint may receive several contributions and is summed; every other adjoint is assigned
///   exactly once.
/// - whether it is *active*: whether a requested variable is reachable from it through operands
///   the ops declare differentiable. Inactive positions get no adjoint storage and no backward code.
#pragma once

#include "tapeless/core/leaf.hpp"
#include "tapeless/core/node.hpp"
#include "tapeless/core/shared.hpp"

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace tapeless::detail {

template <class... T>
struct type_list {};

template <class... L>
struct concat;
template <>
struct concat<> {
  using type = type_list<>;
};
template <class... A>
struct concat<type_list<A...>> {
  using type = type_list<A...>;
};
template <class... A, class... B, class... Rest>
struct concat<type_list<A...>, type_list<B...>, Rest...> {
  using type = typename concat<type_list<A..., B...>, Rest...>::type;
};

/// The expression's node and leaf types in post-order.
template <class E>
struct flatten {
  using type = type_list<E>;
};
template <class Op, class... A>
struct flatten<Node<Op, A...>> {
  using type = typename concat<typename flatten<A>::type..., type_list<Node<Op, A...>>>::type;
};
template <class E>
using flatten_t = typename flatten<E>::type;

/// Number of positions in an expression tree.
template <class E>
inline constexpr std::size_t tree_size_v = 1;
template <class Op, class... A>
inline constexpr std::size_t tree_size_v<Node<Op, A...>> = 1 + (tree_size_v<A> + ... + 0);

/// Positions of a node's operands, given the node's own position.
template <class E, std::size_t Pos>
inline constexpr std::array<std::size_t, 0> child_positions{};
template <class Op, class... A, std::size_t Pos>
inline constexpr std::array<std::size_t, sizeof...(A)> child_positions<Node<Op, A...>, Pos> = [] {
  std::array<std::size_t, sizeof...(A)> out{};
  std::size_t next = Pos + 1 - tree_size_v<Node<Op, A...>>;  // first position of the subtree
  std::size_t k = 0;
  ((next += tree_size_v<A>, out[k++] = next - 1), ...);
  return out;
}();

template <class T, class... L>
inline constexpr bool contains_v = (std::is_same_v<T, L> || ...);

/// True when a requested variable (one of Wrt) is reachable from E through differentiable operands.
template <class E, class... Wrt>
struct reaches : std::false_type {};
template <class T, class... Wrt>
struct reaches<Var<T>, Wrt...> : std::bool_constant<contains_v<T, Wrt...>> {};
template <class E, class Ref, class... Wrt>
struct reaches<Shared<E, Ref>, Wrt...> : reaches<E, Wrt...> {};
template <class Op, class... A, class... Wrt>
struct reaches<Node<Op, A...>, Wrt...> {
  static constexpr bool value = [] {
    std::size_t k = 0;
    bool any = false;
    ((any = any || (op_traits<Op>::differentiable(k) && reaches<A, Wrt...>::value), ++k), ...);
    return any;
  }();
};
template <class E, class... Wrt>
inline constexpr bool active_v = reaches<E, Wrt...>::value;

/// True when `Var<T>` appears anywhere in E (differentiable path or not).
template <class E, class T>
inline constexpr bool mentions_v = std::is_same_v<E, Var<T>>;
template <class Op, class... A, class T>
inline constexpr bool mentions_v<Node<Op, A...>, T> = (mentions_v<A, T> || ...);

/// The node type a `Shared` leaf refers to; void for every other type.
template <class T>
struct referent {
  using type = void;
};
template <class E, class Ref>
struct referent<Shared<E, Ref>> {
  using type = E;
};

/// Records, for each operand of the node at position Pos, its parent and whether the op
/// differentiates through it.
template <class E, std::size_t Pos, std::size_t N>
constexpr void mark_operands(std::array<std::size_t, N>& parent, std::array<bool, N>& edge) {
  if constexpr (!is_leaf_v<E>) {
    constexpr auto& cp = child_positions<E, Pos>;
    [&]<class Op, class... A>(const Node<Op, A...>*) {
      for (std::size_t k = 0; k < cp.size(); ++k) {
        parent[cp[k]] = Pos;
        edge[cp[k]] = op_traits<Op>::differentiable(k);
      }
    }(static_cast<const E*>(nullptr));
  }
}

// Type identity uses the compilers' __is_same builtin: no instantiation per pair, and (unlike
// comparing addresses of per-type variables) a constant expression under every sanitizer.
template <class L>
struct plan;
template <class... T>
struct plan<type_list<T...>> {
  static constexpr std::size_t size = sizeof...(T);
  /// is_at<U>[j]: position j has type U.
  template <class U>
  static constexpr std::array<bool, size> is_at{__is_same(U, T)...};
  static constexpr std::array<bool, size> leaf{is_leaf_v<T>...};
  /// The first position of each position's type.
  static constexpr std::array<std::size_t, size> first = [] {
    constexpr std::array<std::array<bool, size>, size> same{is_at<T>...};
    std::array<std::size_t, size> f{};
    for (std::size_t i = 0; i < size; ++i)
      for (std::size_t j = 0; j <= i; ++j)
        if (same[i][j]) {
          f[i] = j;
          break;
        }
    return f;
  }();
  /// refers[i][p]: position i is a Shared leaf whose referent type is the type of position p.
  static constexpr std::array<std::array<bool, size>, size> refers{is_at<typename referent<T>::type>...};
  static constexpr std::array<bool, size> adjacent{is_adjacent_v<T>...};
  /// Whether position p (a node to the left of i) may be what the Shared leaf at i stands for.
  static constexpr bool may_stand_for(std::size_t i, std::size_t p) { return p < i && refers[i][p] && !leaf[p]; }
  /// How many nodes a Shared leaf may stand for (0 for other positions).
  static constexpr std::array<std::size_t, size> candidate_count = [] {
    std::array<std::size_t, size> n{};
    for (std::size_t i = 0; i < size; ++i)
      for (std::size_t p = 0; p < i; ++p) n[i] += may_stand_for(i, p);
    return n;
  }();
  /// The positions a Shared leaf at I may stand for, nearest last.
  template <std::size_t I>
  static constexpr auto candidates = [] {
    std::array<std::size_t, candidate_count[I]> c{};
    std::size_t k = 0;
    for (std::size_t p = 0; p < I; ++p)
      if (may_stand_for(I, p)) c[k++] = p;
    return c;
  }();
  /// The nearest candidate of a Shared leaf (size if none): `Residual`'s binding.
  static constexpr std::array<std::size_t, size> nearest = [] {
    std::array<std::size_t, size> t{};
    for (std::size_t i = 0; i < size; ++i) {
      t[i] = size;
      for (std::size_t p = 0; p < i; ++p)
        if (may_stand_for(i, p)) t[i] = p;
    }
    return t;
  }();
  /// Whether a node's adjoint may receive several contributions (and is summed): another inner
  /// position has its type, or a Shared leaf may stand for it.
  static constexpr std::array<bool, size> shared = [] {
    std::array<bool, size> s{};
    for (std::size_t i = 0; i < size; ++i) {
      for (std::size_t j = 0; j < size; ++j)
        if (j != i && !leaf[i] && first[j] == first[i]) s[i] = true;
      if (nearest[i] < size) {
        if (adjacent[i]) {
          s[nearest[i]] = true;
        } else {
          for (std::size_t p = 0; p < i; ++p)
            if (may_stand_for(i, p)) s[p] = true;
        }
      }
    }
    return s;
  }();
  static constexpr bool candidate(std::size_t i) { return !leaf[i] && first[i] != i; }
  /// on_path[i]: every edge from the root down to position i is an operand its op differentiates
  /// through. Backward visits only such positions (and only active ones); data operands (labels,
  /// targets) and everything below them are never visited.
  static constexpr std::array<bool, size> on_path = [] {
    std::array<std::size_t, size> parent{};
    std::array<bool, size> edge{};
    [&]<std::size_t... I>(std::index_sequence<I...>) { (mark_operands<T, I>(parent, edge), ...); }
    (std::index_sequence_for<T...>{});
    std::array<bool, size> p{};
    p[size - 1] = true;
    for (std::size_t i = size - 1; i-- > 0;) p[i] = edge[i] && p[parent[i]];
    return p;
  }();
  /// True when some leaf has a batch (dynamic) dimension: run-time shapes must then be checked.
  static constexpr bool has_dynamic = ((is_leaf_v<T> && dims_v<T>.rows == dynamic) || ...);
};

}  // namespace tapeless::detail
