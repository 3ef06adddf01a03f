/// @file
/// @brief `Shared<E>`: a leaf that stands for an earlier node of the same expression (a DAG edge),
/// made with `shared(x)`.
///
/// `x + f(x)` built by value copies x's subtree into both operands; a chain of such blocks
/// doubles the tree at every step. `x + f(shared(x))` keeps x in the tree once: the Shared leaf
/// reads x's value and adds its adjoint contribution to x's adjoint.
///
/// Identity, never type: a Shared leaf keeps the *signature* of the node it was made from (the
/// node with its leaves' identities, constants and op state, every Shared leaf inside it a
/// wildcard: linear in size, nothing that can dangle). When a Program is built it binds the leaf
/// to the node to its left whose structure matches that signature. No match is an error (x is not
/// in the expression, or not to the left of the reference); two matches that are not the same
/// computation are an error (ambiguous). Both are thrown as `std::invalid_argument` from the
/// Program's constructor, before anything is computed: a reference is never silently rebound.
///
/// `Residual` uses the cheaper `Shared<E, detail::adjacent>`: its target is, by construction,
/// the nearest node of type E to its left (the residual's own input), checked at compile time.
#pragma once

#include "tapeless/core/expression.hpp"
#include "tapeless/core/leaf.hpp"
#include "tapeless/core/node.hpp"

#include <boost/hana/basic_tuple.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

namespace tapeless {

namespace detail {
/// The binding of `Residual`'s Shared leaf: the nearest node of type E to its left.
struct adjacent {};

/// A Shared leaf inside a signature: matches any leaf of its type.
struct any_shared {};

/// A node of a signature: the op (its state) and its operands' signatures.
template <class Op, class... A>
struct signature_node {
  [[no_unique_address]] Op op;
  boost::hana::basic_tuple<A...> args;
};

template <class E>
struct signature {
  using type = E;  // Var, Input, Constant: themselves (a pointer, or the constant's value)
};
template <class E>
using signature_t = typename signature<E>::type;
}  // namespace detail

/// The leaf. `Ref` is what it keeps to find its target: the signature of the node it was made
/// from, or `detail::adjacent`.
template <class E, class Ref = detail::signature_t<E>>
struct Shared {
  [[no_unique_address]] Ref ref;
};

namespace detail {
template <class E, class Ref>
struct signature<Shared<E, Ref>> {
  using type = any_shared;
};
template <class Op, class... A>
struct signature<Node<Op, A...>> {
  using type = signature_node<Op, signature_t<A>...>;
};

/// The signature of `e`.
template <class E>
signature_t<E> make_signature(const E& e) {
  if constexpr (is_node<E>::value) {
    return [&]<class Op, class... A, std::size_t... K>(const Node<Op, A...>& n, std::index_sequence<K...>) {
      return signature_t<E>{
          n.op, boost::hana::basic_tuple<signature_t<A>...>(make_signature(boost::hana::at_c<K>(n.args))...)};
    }(e, std::make_index_sequence<node_arity_v<E>>{});
  } else if constexpr (std::is_same_v<signature_t<E>, any_shared>) {
    return {};
  } else {
    return e;
  }
}

/// True when node `e` has signature `s`: same op state, same leaves (by identity), same constants;
/// Shared leaves inside match anything.
template <class E>
bool matches(const signature_t<E>& s, const E& e) {
  if constexpr (is_node<E>::value) {
    return [&]<class Op, class... A, std::size_t... K>(const Node<Op, A...>&, std::index_sequence<K...>) {
      return same_op(s.op, e.op) && (matches<A>(boost::hana::at_c<K>(s.args), boost::hana::at_c<K>(e.args)) && ...);
    }(e, std::make_index_sequence<node_arity_v<E>>{});
  } else if constexpr (std::is_same_v<signature_t<E>, any_shared>) {
    return true;
  } else {
    return expr_traits<E>::same(s, e);
  }
}

template <class E>
inline constexpr bool is_adjacent_v = false;
template <class E>
inline constexpr bool is_adjacent_v<Shared<E, adjacent>> = true;
}  // namespace detail

template <class E, class Ref>
struct expr_traits<Shared<E, Ref>> {
  using scalar = scalar_t<E>;
  static constexpr Dims dims = dims_v<E>;
  static constexpr bool is_leaf = true;
  static constexpr LeafKind kind = LeafKind::shared;
  // Two Shared leaves may stand for different nodes: never treat them as one.
  static bool same(const Shared<E, Ref>&, const Shared<E, Ref>&) noexcept { return false; }
};

template <class E>
inline constexpr bool is_shared_v = false;
template <class E, class Ref>
inline constexpr bool is_shared_v<Shared<E, Ref>> = true;

/// A reference to the node `x`, for use to the right of `x` in the same expression (see above).
template <class E>
requires Expression<E> Shared<std::remove_cvref_t<E>> shared(const E& x) {
  static_assert(!is_leaf_v<E>, "tapeless::shared: a leaf is shared by using it again; shared() is for nodes");
  if constexpr (is_leaf_v<E>)
    return {};
  else
    return {detail::make_signature(x)};
}

}  // namespace tapeless
