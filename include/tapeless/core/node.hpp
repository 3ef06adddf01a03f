/// @file
/// @brief `Node<Op, Args...>`: an operation applied to operand expressions, and the op protocol.
///
/// A node holds its operation object (empty for most ops, a few numbers for ops such as `pow`)
/// and its operands, inner nodes by value and leaves as their small reference wrappers. It holds
/// nothing else: no value, no gradient. Values and adjoints live in the storage a `Program` plans
/// for the whole expression (see engine/program.hpp).
///
/// ## The op protocol (the extension point)
/// Built-in ops and user ops are plain structs with these members:
/// - `static constexpr Dims shape(Dims... operands)`: the result shape (compile time and run time).
/// - `static constexpr bool valid(Dims... operands)` (optional): the shape rule; `dims_fit` treats
///   a dynamic dimension as a wildcard at compile time and compares exactly at run time.
/// - `forward(Y& y, const A&... a) const`: writes the value into `y` (sized already).
/// - `backward(D& d, const G& g, const Y& y, const A&... a) const`: given the adjoint `g` of the
///   result, adds each operand's adjoint contribution: `d[arg<k>] += eigen_expression;`.
///   `d[arg<k>].active` says whether operand k needs its adjoint at all.
/// - `static constexpr std::string_view name` (optional): used in run-time error messages.
/// - `static constexpr bool differentiable(std::size_t k)` (optional): false for operands that
///   are data (labels, targets); asking for a gradient through them does not compile.
/// - `template <class S, Dims... Operands> using workspace = W;` (optional): state the program
///   keeps for this node, given the scalar type and the operands' compile-time shapes: a scratch
///   matrix (inherit `WorkspaceLike<k>` for one shaped like operand k), the `Product<S>` buffers
///   of a matrix product (core/product.hpp), or a struct of several. It is passed to `forward` and
///   `backward` right after `y`.
/// - `static constexpr bool workspace_is_scratch = true;` (optional, with `workspace`): backward
///   does not read what forward left in the workspace (packing buffers, a matrix backward fills
///   before reading). A mixed-precision Trainer may then keep only the node's value between the
///   passes and share the workspace between layers (network/precision.hpp); without it, the
///   layer keeps a program of its own.
/// - `static void reserve(W& w, Dims... operands)` (optional, with `workspace`): sizes the
///   workspace for the operands' run-time shapes; called when the program sizes its storage (at
///   construction, and when a batch dimension changes), never during a step.
/// In `backward`, `d[arg<k>].add_product(a, b, product)` adds the matrix product a b through one
/// of the workspace's `Product`s, without allocating; after either, `d[arg<k>].add_coeff(i, j, v)`
/// adds v to one coefficient (a sparse correction to the dense contribution just added).
/// Every name a user op needs is public: `Dims`, `dims_fit`, `arg`, `storage_t`, `Product`.
/// Forward evaluation and adjoint generation are separate customization points: the engine calls
/// `forward` in post-order and `backward` in reverse post-order, never anything else.
#pragma once

#include "tapeless/core/error.hpp"
#include "tapeless/core/expression.hpp"
#include "tapeless/core/leaf.hpp"
#include "tapeless/core/product.hpp"
#include "tapeless/core/storage.hpp"

#include <boost/hana/basic_tuple.hpp>

#include <array>
#include <cstddef>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace tapeless {

template <class Op, class... Args>
struct Node {
  [[no_unique_address]] Op op;
  boost::hana::basic_tuple<Args...> args;
};

/// Index tag for operands in `backward`: `d[arg<0>] += ...`.
template <std::size_t K>
inline constexpr std::integral_constant<std::size_t, K> arg{};

/// What the engine reads of an op, with the protocol's defaults filled in.
template <class Op>
struct op_traits {
  template <class... D>
  static constexpr bool valid(D... d) {
    if constexpr (requires { Op::valid(d...); })
      return Op::valid(d...);
    else
      return true;
  }
  static constexpr std::string_view name() {
    if constexpr (requires { Op::name; })
      return std::string_view(Op::name);
    else
      return "user operation";
  }
  static constexpr bool differentiable(std::size_t k) {
    if constexpr (requires { Op::differentiable(k); })
      return Op::differentiable(k);
    else
      return true;
  }
  static constexpr bool workspace_is_scratch() {
    if constexpr (requires { Op::workspace_is_scratch; })
      return Op::workspace_is_scratch;
    else
      return false;
  }
};

/// An op that declares a workspace for operands of these scalar and shapes.
template <class Op, class S, Dims... Operands>
concept HasWorkspace = requires {
  typename Op::template workspace<S, Operands...>;
};

/// The workspace most row-wise ops need, as a base to inherit: one matrix shaped like operand K
/// (`struct Softmax : WorkspaceLike<0>`).
template <std::size_t K>
struct WorkspaceLike {
  template <class S, Dims... Operands>
  using workspace = storage_t<S, std::array<Dims, sizeof...(Operands)>{Operands...}[K].rows,
                              std::array<Dims, sizeof...(Operands)>{Operands...}[K].cols>;
  template <class W, class... D>
  static void reserve(W& w, D... operands) {
    const Dims x = std::array<Dims, sizeof...(D)>{operands...}[K];
    w.resize(x.rows, x.cols);
  }
};

template <class Op, class... Args>
struct expr_traits<Node<Op, Args...>> {
  using scalar = scalar_t<std::tuple_element_t<0, std::tuple<Args...>>>;
  static constexpr Dims dims = Op::shape(dims_v<Args>...);
  static constexpr bool is_leaf = false;
  static_assert(dims.cols != dynamic && dims.cols > 0 && (dims.rows == dynamic || dims.rows > 0),
                "tapeless: an operation's shape() must give a fixed column count and a positive or dynamic row count");
};

template <class E>
struct is_node : std::false_type {};
template <class Op, class... Args>
struct is_node<Node<Op, Args...>> : std::true_type {};

namespace detail {
/// The scalar types of an op's operands: those the op differentiates through must agree (labels
/// and targets, which it declares not differentiable, may have any type).
template <class Op, class... S>
struct scalar_rule;
template <class Op, class S0, class... S>
requires(__is_same(S0, S) &&
         ...) struct scalar_rule<Op, S0, S...> {  // one scalar type: nothing to compute (most nodes)
  static constexpr bool ok = true;
};
template <class Op, class... S>
struct scalar_rule {
  static constexpr std::size_t n = sizeof...(S);
  static constexpr std::size_t first = [] {
    for (std::size_t k = 0; k < n; ++k)
      if (op_traits<Op>::differentiable(k)) return k;
    return std::size_t{0};
  }();
  using expected = std::tuple_element_t<first, std::tuple<S...>>;
  /// The first differentiable operand of another scalar type (n if none).
  static constexpr std::size_t conflict = [] {
    constexpr std::array<bool, n> same{__is_same(expected, S)...};
    for (std::size_t k = 0; k < n; ++k)
      if (op_traits<Op>::differentiable(k) && !same[k]) return k;
    return n;
  }();
  static constexpr bool ok = conflict == n;
};
}  // namespace detail

/// Builds `Node<Op, as_expr_t<A>...>` after checking the op's rules at compile time: the scalar
/// types of its differentiable operands agree, and its shape rule holds. On a failed check it
/// emits one diagnostic (`scalar_type_mismatch<Op, S, T>` or `shape_mismatch<Op, Shape...>`) and
/// yields `InvalidExpr`; an operand that is already `InvalidExpr` yields `InvalidExpr` silently.
template <class Op, class... A>
requires(Operand<A>&&...) auto make_node(Op op, A&&... a) {
  using rule = detail::scalar_rule<Op, scalar_t<as_expr_t<A&&>>...>;
  if constexpr ((is_invalid_v<A> || ...)) {
    return InvalidExpr{};
  } else if constexpr (!rule::ok) {
    (void)sizeof(scalar_type_mismatch<Op, typename rule::expected,
                                      scalar_t<std::tuple_element_t<rule::conflict, std::tuple<as_expr_t<A&&>...>>>>);
    return InvalidExpr{};
  } else if constexpr (!op_traits<Op>::valid(dims_v<as_expr_t<A&&>>...)) {
    (void)sizeof(shape_mismatch<Op, shape_of_t<as_expr_t<A&&>>...>);
    return InvalidExpr{};
  } else {
    return Node<Op, as_expr_t<A&&>...>{op, boost::hana::basic_tuple<as_expr_t<A&&>...>(as_expr(std::forward<A>(a))...)};
  }
}

namespace detail {
/// The number of operands of a node type.
template <class E>
inline constexpr std::size_t node_arity_v = 0;
template <class Op, class... Args>
inline constexpr std::size_t node_arity_v<Node<Op, Args...>> = sizeof...(Args);

/// True when two ops of one type do the same thing: always for a stateless op, by `==` for an op
/// with state, never for an op with state and no `==` (identity cannot be proven).
template <class Op>
bool same_op(const Op& a, const Op& b) {
  if constexpr (std::is_empty_v<Op>)
    return true;
  else if constexpr (requires { a == b; })
    return a == b;
  else
    return false;
}

/// True when two nodes compute the same value: same op state, same leaves (by identity).
template <class E>
bool same_expr(const E& a, const E& b) {
  if constexpr (is_leaf_v<E>) {
    return expr_traits<E>::same(a, b);
  } else {
    return [&]<class Op, class... Args, std::size_t... K>(const Node<Op, Args...>&, std::index_sequence<K...>) {
      return same_op(a.op, b.op) && (same_expr(boost::hana::at_c<K>(a.args), boost::hana::at_c<K>(b.args)) && ...);
    }(a, std::make_index_sequence<node_arity_v<E>>{});
  }
}
}  // namespace detail

}  // namespace tapeless
