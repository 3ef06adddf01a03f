/// @file
/// @brief Evaluation: the forward pass (post-order) and the backward pass (reverse post-order),
/// and the adjoint sinks an op's `backward` writes through.
///
/// Forward calls each op's `forward(y, [work,] operand values...)` once per distinct node;
/// aliases are skipped, their readers read the earlier slot. Backward seeds the root's adjoint
/// with 1 and calls each live node's `backward(d, g, y, [work,] operand values...)` in reverse
/// post-order, a reverse topological order: every adjoint is complete before its op reads it.
/// `d[arg<k>]` is operand k's sink: `+=` adds an Eigen expression, `add_product` a matrix product
/// through one of the op's `Product`s. Where a contribution goes, and whether it is assigned or
/// added (`Write`), is decided at compile time from the plan, or at construction (identity.hpp):
/// - an inner node: its adjoint slot, assigned when the plan knows it gets exactly one
///   contribution, added when it may get several (those are zeroed at the start of backward);
/// - a Shared leaf: the adjoint of the node it stands for (always added: the plan sums it);
/// - a variable: the gradient of the requested tensor it refers to, added when backward reaches
///   that tensor more than once (zeroed at the start), assigned otherwise;
/// - an operand that needs no adjoint (`active` is false): nothing, and the Eigen expression is
///   never evaluated.
#pragma once

#include "tapeless/engine/state.hpp"

#include <cstddef>
#include <tuple>
#include <type_traits>

namespace tapeless::detail {

/// Writes x (an Eigen expression, or a number into a 1x1 destination) into dst. `write` is a
/// `Write` (a requested tensor's gradient, identity.hpp) or a `write_constant` (wherever the plan
/// knows it: then only that mode is instantiated).
template <class Dst, class X, class Mode>
void write_to(Dst& dst, const X& x, Mode write) {
  with_write(write, [&](auto w) {
    if constexpr (std::is_arithmetic_v<X>) {
      if constexpr (decltype(w)::value == Write::add)
        dst(0, 0) += x;
      else
        dst(0, 0) = x;
    } else {
      if constexpr (decltype(w)::value == Write::add)
        dst.noalias() += x;
      else
        dst.noalias() = x;
    }
  });
}

/// Calls put(destination, write) with the storage that receives position P's adjoint
/// contributions (expression `e`), and how to write into it.
template <std::size_t P, class State, class E, class Put>
void with_adjoint(State& s, const E& e, Put&& put) {
  using plan = typename State::plan;
  if constexpr (is_shared_v<E>) {
    s.template at_target<P>([&](auto t) { put(s.template resolved<t()>().adj, write_constant<Write::add>{}); });
  } else if constexpr (is_leaf_v<E>) {
    static_assert(expr_traits<E>::kind == LeafKind::variable);
    s.for_each_wrt_of(e, [&](auto j) {
      if constexpr (State::template single_use<j()>)
        put(std::get<j()>(s.grads), write_constant<Write::assign>{});
      else
        put(std::get<j()>(s.grads), s.uses[j()] == 1 ? Write::assign : Write::add);
    });
  } else {
    constexpr Write write = plan::shared[P] ? Write::add : Write::assign;
    put(s.template resolved<P>().adj, write_constant<write>{});
  }
}

/// The adjoint sink of operand `node` (at position P): `d[arg<k>]` in an op's backward.
template <std::size_t P, class State, class C, bool Active>
struct sink {
  State* state;
  const C* node;
  /// Whether this operand needs its adjoint (a compile-time constant).
  static constexpr bool active = Active;
  /// Adds x (an Eigen expression of the operand's shape) to the operand's adjoint.
  template <class X>
  void operator+=(const X& x) const {
    if constexpr (Active) with_adjoint<P>(*state, *node, [&](auto& dst, auto w) { write_to(dst, x, w); });
  }
  /// Adds the matrix product a b, computed by `product` (a `Product` of the op's workspace).
  template <class A, class B, class S>
  void add_product(const A& a, const B& b, Product<S>& product) const {
    if constexpr (Active) with_adjoint<P>(*state, *node, [&](auto& dst, auto w) { product.run(dst, a, b, w); });
  }
  /// Adds v to coefficient (i, j) of the operand's adjoint. Only after this op's `+=` or
  /// `add_product` into the same operand, which initialises the destination: a sparse correction
  /// to a dense contribution (softmax-CE's -1 at each row's label).
  template <class V>
  void add_coeff(Index i, Index j, V v) const {
    if constexpr (Active) with_adjoint<P>(*state, *node, [&](auto& dst, auto) { dst(i, j) += v; });
  }
};

/// The `d` an op's backward receives for the node `e` at position Pos.
template <std::size_t Pos, class State, class E>
struct adjoints {
  State* state;
  const E* node;
  template <std::size_t K>
  auto operator[](std::integral_constant<std::size_t, K>) const {
    using C = std::remove_cvref_t<decltype(boost::hana::at_c<K>(node->args))>;
    using Op = std::remove_cvref_t<decltype(node->op)>;
    constexpr std::size_t child = child_positions<E, Pos>[K];
    constexpr bool active = op_traits<Op>::differentiable(K) && State::template reachable<child, C>;
    return sink<child, State, C, active>{state, &boost::hana::at_c<K>(node->args)};
  }
};

/// Calls the op of node `e` (position P) with y, its workspace if it has one, and `rest`
/// followed by the operands' values.
template <std::size_t P, class State, class E, class Call>
void call_op(State& s, const E& e, Call&& call) {
  auto& slot = s.template slot<P>();
  auto read = [&](auto c, const auto& operand) -> const auto& { return s.template value<c()>(operand); };
  with_operands<P>(e, read, [&](const auto&... operands) {
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(slot.work)>, none>)
      call(slot, operands...);
    else
      call(slot, slot.work, operands...);
  });
}

/// Computes every value once, in post-order.
template <class State>
void forward(State& s) {
  visit<order::post, State::root>(s.expr, s.distinct_positions(), [&](auto at, const auto& e) {
    if constexpr (!is_leaf_v<std::remove_cvref_t<decltype(e)>>)
      call_op<at()>(s, e, [&](auto& slot, auto&... args) { e.op.forward(slot.value, args...); });
  });
}

/// Computes every requested gradient, reading the values of the last forward(). The root's
/// adjoint is `seed` when given (the adjoint of a network layer's output, written by the next
/// layer's program), ones otherwise (a 1x1 loss).
template <class State, class Seed = none>
void backward(State& s, const Seed* seed = nullptr) {
  using plan = typename State::plan;
  [&]<std::size_t... P>(std::index_sequence<P...>) {  // summed adjoints start at zero
    (([&] {
       if constexpr (plan::shared[P])
         if constexpr (!std::is_same_v<decltype(s.template slot<P>().adj), none>) s.template slot<P>().adj.setZero();
     }()),
     ...);
  }
  (std::make_index_sequence<State::size>{});
  s.for_each_wrt([&](auto j) {
    if (s.uses[j()] > 1) std::get<j()>(s.grads).setZero();
  });
  using Root = std::remove_cvref_t<decltype(s.expr)>;
  if constexpr (is_leaf_v<Root>) {
    if constexpr (std::is_same_v<Seed, none>)
      sink<State::root, State, Root, true>{&s, &s.expr} += value_storage_t<Root>::Ones();
    else
      sink<State::root, State, Root, true>{&s, &s.expr} += *seed;
  } else {
    constexpr bool seeded = !std::is_same_v<Seed, none>;
    if constexpr (!seeded) s.template slot<State::root>().adj.setOnes();
    visit<order::reverse_pre, State::root>(s.expr, s.live_positions(), [&](auto at, const auto& e) {
      using E = std::remove_cvref_t<decltype(e)>;
      if constexpr (!is_leaf_v<E>) {
        adjoints<at(), State, E> d{&s, &e};
        call_op<at()>(s, e, [&](auto& slot, auto&... args) {
          if constexpr (seeded && at() == State::root)
            e.op.backward(d, *seed, slot.value, args...);
          else
            e.op.backward(d, slot.adj, slot.value, args...);
        });
      }
    });
  }
}

}  // namespace tapeless::detail
