/// @file
/// @brief `Program<Expr, Wrt...>`: forward values and reverse-mode adjoints of an expression,
/// generated at compile time from its type. No tape, no node list, no virtual call, no
/// allocation after construction (unless a batch dimension changes).
///
/// How `relu(affine(x, W, b))` becomes a backward call (docs/design.md has the full story):
/// 1. Plan (engine/plan.hpp, compile time): the tree's positions in post-order, which positions
///    may be aliases or Shared targets, which are active (a requested tensor lies below them).
/// 2. Storage (engine/storage.hpp): one slot per node: value, adjoint if active, the op's
///    workspace if it declares one.
/// 3. Construction: identity (engine/identity.hpp) decides aliases and Shared targets, sizing
///    (engine/sizing.hpp) checks run-time shapes and sizes every slot once.
/// 4. Evaluation (engine/evaluate.hpp): forward calls `Affine::forward` then `Elementwise<ReLU>::
///    forward` in post-order; backward calls `Elementwise<ReLU>::backward` then `Affine::backward`
///    in reverse post-order, each writing its operands' adjoints through sinks.
/// Every pass is one walk of the tree (engine/visit.hpp) with a small callback.
#pragma once

#include "tapeless/core/error.hpp"
#include "tapeless/core/leaf.hpp"
#include "tapeless/core/node.hpp"
#include "tapeless/engine/evaluate.hpp"
#include "tapeless/engine/identity.hpp"
#include "tapeless/engine/sizing.hpp"
#include "tapeless/engine/state.hpp"

#include <cstddef>
#include <new>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

namespace tapeless {

namespace detail {
/// Bytes of a value of compile-time shape `d` (a dynamic row count taken as `batch`) of scalars
/// of `scalar` bytes: what `Program::storage_bytes` and a chain's checkpoints count.
constexpr std::size_t value_bytes(Dims d, Index batch, std::size_t scalar) {
  return static_cast<std::size_t>((d.rows == dynamic ? batch : d.rows) * d.cols) * scalar;
}

template <class E, class... Wrt>
constexpr bool check_wrt() {
  constexpr bool tensors = (is_tensor_v<Wrt> && ...);
  static_assert(tensors, "tapeless::grad: every argument after the loss must be a tapeless::Tensor");
  if constexpr (tensors) {
    constexpr bool present = (mentions_v<E, Wrt> && ...);
    static_assert(present, "tapeless::grad: a requested tensor's type does not appear as a variable in the expression");
    constexpr bool reachable = (active_v<E, Wrt> && ...);
    static_assert(!present || reachable,
                  "tapeless::grad: a requested tensor is only used as an operand the op declares not differentiable "
                  "(labels, targets)");
    return present && reachable;
  }
  return false;
}
}  // namespace detail

template <class Expr, class... Wrt>
class Program {
  static_assert(Expression<Expr> && std::is_same_v<Expr, std::remove_cvref_t<Expr>>);
  using state_type = detail::program_state<Expr, Wrt...>;
  using plan = typename state_type::plan;
  static constexpr bool wants_gradient = sizeof...(Wrt) > 0;

 public:
  using scalar_type = scalar_t<Expr>;
  using value_type = value_storage_t<Expr>;
  using expression_type = Expr;
  /// How many tensors the gradient is requested for.
  static constexpr std::size_t requested = sizeof...(Wrt);

  /// Plans storage for `expr` (copied: inner nodes by value, tensors by reference) and the
  /// gradients with respect to `wrt`; allocates everything it will ever need. Throws
  /// `shape_error` when a run-time (batch) dimension breaks a shape rule, std::invalid_argument
  /// when a `shared(x)` has no x to its left or a requested tensor is not reached.
  explicit Program(Expr expr, const Wrt&... wrt)
      : s_{.expr = std::move(expr), .wrt = {&wrt...}, .grads = {gradient_storage<Wrt>::make(wrt)...}} {
    if constexpr (wants_gradient) (void)detail::check_wrt<Expr, Wrt...>();
    detail::bind_identities(s_);
    detail::size_storage(s_, true);
  }

  /// Computes every value of the expression once, in post-order.
  void forward() {
    if constexpr (plan::has_dynamic) {
      if (!sized_ || !detail::leaves_as_sized(s_)) {  // a batch dimension changed: check and resize
        sized_ = false;                               // until the sizing succeeds (a shape_error leaves it false)
        detail::size_storage(s_, false);
        sized_ = true;
      }
    } else {
      detail::check_leaves(s_);  // a heap-stored input may have been resized through its value()
    }
    detail::forward(s_);
  }

  /// Computes the gradient of the (1x1) result with respect to every requested tensor. Reads the
  /// values of the last forward(); call forward() first.
  void backward() requires wants_gradient {
    static_assert(dims_v<Expr>.rows == 1 && dims_v<Expr>.cols == 1,
                  "tapeless::grad: the loss must be a 1x1 expression (reduce it with sum() or mean())");
    detail::backward(s_);
  }

  /// The same, for a result of any shape whose adjoint (the gradient of some scalar with respect
  /// to value()) is `seed`: how a network's layers are chained (network/chain.hpp).
  void backward(const value_type& seed) requires wants_gradient { detail::backward(s_, &seed); }

  /// forward() then backward().
  void run() {
    forward();
    if constexpr (wants_gradient) backward();
  }

  /// The value of the whole expression (valid after forward()).
  const auto& value() const {
    if constexpr (is_leaf_v<Expr>)
      return expr_traits<Expr>::value(s_.expr);
    else
      return s_.template slot<state_type::root>().value;
  }

  /// The value of a 1x1 expression as a number.
  scalar_type scalar() const requires(dims_v<Expr>.rows == 1 && dims_v<Expr>.cols == 1) { return value()(0, 0); }

  /// Gradient with respect to the J-th requested tensor.
  template <std::size_t J>
  const auto& gradient() const {
    return std::get<J>(s_.grads);
  }
  /// The same, writable (scaled or rounded in place before it seeds another program: a
  /// mixed-precision chain, network/chain.hpp); the next backward overwrites it.
  template <std::size_t J>
  auto& gradient() {
    return std::get<J>(s_.grads);
  }

  /// Gradient with respect to a requested tensor, found by identity; throws std::invalid_argument
  /// if `w` was not requested.
  template <TensorLike T>
  const auto& gradient(const T& w) const {
    static_assert(detail::contains_v<T, Wrt...>, "tapeless::Program::gradient: no requested tensor has this type");
    const gradient_storage_t<T>* found = nullptr;
    state_type::for_each_wrt([&](auto j) {
      if constexpr (std::is_same_v<std::tuple_element_t<j(), std::tuple<Wrt...>>, T>)
        if (!found && std::get<j()>(s_.wrt) == &w) found = &std::get<j()>(s_.grads);
    });
    if (!found) throw std::invalid_argument("tapeless::Program::gradient: this tensor was not requested");
    return *found;
  }
  template <TensorLike T>
  const auto& operator[](const T& w) const {
    return gradient(w);
  }

  /// Calls f(slot, reachable) for the storage of every node that declares a workspace and
  /// computes its own value (not an alias), in post-order: `slot.value`, `slot.adj` (`none` where
  /// the node has no adjoint) and `slot.work`; `reachable` is a `std::bool_constant`, true when
  /// backward visits the node. How taps are found (ops/tap.hpp); only instantiated where called.
  template <class F>
  void for_each_workspace(F&& f) {
    detail::visit<detail::order::post, state_type::root>(s_.expr, s_.distinct_positions(), [&](auto at, const auto& e) {
      using E = std::remove_cvref_t<decltype(e)>;
      if constexpr (!is_leaf_v<E>) {
        auto& slot = s_.template slot<at()>();
        if constexpr (!std::is_same_v<std::remove_cvref_t<decltype(slot.work)>, detail::none>)
          f(slot, std::bool_constant < state_type::template reachable<at(), E> && wants_gradient > {});
      }
    });
  }

  /// Calls f(value) with the value matrix of every node position, in post-order (leaves have no
  /// slot; an alias's slot, which nothing reads, is included): what a mixed-precision chain
  /// rounds, stores and restores (network/chain.hpp). `value_count(batch)` values in all.
  template <class F>
  void for_each_value(F&& f) {
    [&]<std::size_t... P>(std::index_sequence<P...>) {
      (
          [&](auto& slot) {
            if constexpr (requires { slot.value; }) f(slot.value);
          }(s_.template slot<P>()),
          ...);
    }
    (std::make_index_sequence<state_type::size>{});
  }
  /// How many scalars `for_each_value` visits, with `batch` rows wherever a shape has the batch's.
  static constexpr std::size_t value_count(Index batch) {
    return [&]<class... T>(detail::type_list<T...>) {
      return ((is_leaf_v<T> ? 0 : detail::value_bytes(dims_v<T>, batch, 1)) + ... + std::size_t{0});
    }(detail::flatten_t<Expr>{});
  }

  /// Re-reads where each requested tensor's gradient memory is, after the tensors' views were
  /// re-pointed in place (a checkpoint group does this: network/chain.hpp).
  void rebind_gradients() {
    state_type::for_each_wrt([&](auto j) {
      using T = std::tuple_element_t<j(), std::tuple<Wrt...>>;
      if constexpr (requires(T & t) { t.gradient(); }) {
        auto& g = std::get<j()>(s_.grads);
        using G = std::remove_cvref_t<decltype(g)>;
        g.~G();
        ::new (static_cast<void*>(&g)) G(gradient_storage<T>::make(*std::get<j()>(s_.wrt)));
      }
    });
  }

  /// Bytes of the values and adjoints this program keeps, and of the gradients it holds itself (of
  /// a requested tensor without gradient memory of its own: a chained layer's input), with
  /// `batch` rows wherever a shape has the batch's. Op workspaces (a matrix product's packing
  /// buffers, softmax-CE's probabilities) are not counted. A compile-time fact.
  static constexpr std::size_t storage_bytes(Index batch) {
    std::size_t total = 0;
    [&]<class... T>(detail::type_list<T...>) {
      ((total += is_leaf_v<T>
                     ? 0
                     : detail::value_bytes(dims_v<T>, batch, sizeof(scalar_t<T>)) * (1 + detail::active_v<T, Wrt...>)),
       ...);
    }(detail::flatten_t<Expr>{});
    ((total += requires(Wrt & t) { t.gradient(); }
                   ? 0
                   : detail::value_bytes({Wrt::rows_at_compile_time, Wrt::cols_at_compile_time}, batch,
                                         sizeof(typename Wrt::scalar_type))),
     ...);
    return total;
  }

  /// How many distinct positions the plan has (leaves included): a compile-time fact.
  static constexpr std::size_t positions() { return state_type::size; }
  /// Whether position `i` reads another position's value (decided at construction).
  bool is_alias(std::size_t i) const { return i < state_type::size && s_.alias[i]; }

 private:
  state_type s_;
  bool sized_ = true;  // the last sizing succeeded: s_.dims are the storage's shapes
};

template <class Expr, class... Wrt>
Program(Expr, const Wrt&...) -> Program<Expr, Wrt...>;

/// What an expression that failed its compile-time check yields: accepts every use silently, so
/// that the one shape diagnostic is the only error.
template <class... Wrt>
class Program<InvalidExpr, Wrt...> {
 public:
  using scalar_type = double;
  using value_type = value_storage_t<InvalidExpr>;
  using expression_type = InvalidExpr;
  static constexpr std::size_t requested = 0;  // nothing to run backward (network/chain.hpp)
  explicit Program(InvalidExpr, const Wrt&...) {}
  void forward() {}
  void backward() {}
  void run() {}
  const value_type& value() const { return dummy(); }
  double scalar() const { return 0; }
  template <std::size_t J>
  const value_type& gradient() const {
    return dummy();
  }
  template <class T>
  const value_type& gradient(const T&) const {
    return dummy();
  }
  template <class T>
  const value_type& operator[](const T&) const {
    return dummy();
  }
  template <class F>
  void for_each_workspace(F&&) {}
  template <class F>
  void for_each_value(F&&) {}
  static constexpr std::size_t value_count(Index) { return 0; }
  void rebind_gradients() {}
  static constexpr std::size_t storage_bytes(Index) { return 0; }

 private:
  template <class V = value_type>  // a template: the 1x1 matrix is instantiated only when used
  static const V& dummy() {
    static const V m = V::Zero();
    return m;
  }
};

/// Evaluates `loss` and its gradient with respect to each of `wrt` once; the returned program
/// can be run() again after the tensors change, with no new allocation.
///
///     tapeless::Scalar<double> x{2.0}, y{3.0};
///     auto g = tapeless::grad(square(x * y + x), x, y);
///     g[x]  // 64
template <class E, class... Wrt>
requires ExprLike<E>
auto grad(E&& loss, const Wrt&... wrt) {
  using Expr = as_expr_t<E&&>;
  if constexpr (is_invalid_v<Expr>) {
    return Program<InvalidExpr, Wrt...>(InvalidExpr{}, wrt...);  // diagnosed once, where it arose
  } else if constexpr (!detail::check_wrt<Expr, Wrt...>()) {
    return Program<InvalidExpr, Wrt...>(InvalidExpr{}, wrt...);  // diagnosed once, by check_wrt
  } else {
    Program<Expr, Wrt...> p(as_expr(std::forward<E>(loss)), wrt...);
    p.run();
    return p;
  }
}

/// The value of an expression, computed once.
template <class E>
requires ExprLike<E>
auto eval(E&& e) {
  Program<as_expr_t<E&&>> p(as_expr(std::forward<E>(e)));
  p.forward();
  return typename decltype(p)::value_type(p.value());
}

}  // namespace tapeless
