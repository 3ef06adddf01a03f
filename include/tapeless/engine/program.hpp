/// @file
/// @brief `Program<Expr, Wrt...>`: forward values and reverse-mode adjoints of an expression,
/// generated at compile time from its type. No tape, no node list, no virtual call, no
/// allocation after construction (unless a batch dimension changes).
///
/// How it works (docs/design.md has the full story):
/// 1. The plan (engine/plan.hpp) numbers the tree's positions in post-order and gives each inner
///    position a slot: its value, its adjoint if a requested variable lies below it, its op's
///    workspace. Slots are a `hana::basic_tuple` member: statically sized storage.
/// 2. `forward()` is a compile-time recursion that visits the tree in post-order and calls each
///    op's `forward` once; an alias position (same sub-expression as an earlier one) is skipped
///    and its readers read the earlier slot.
/// 3. `backward()` seeds the root's adjoint with 1 and visits the tree in reverse post-order, a
///    reverse topological order: every adjoint is complete before its op's `backward` reads it.
///    Contributions to an alias go to the earlier slot; contributions to a variable go to the
///    gradient of the requested tensor it refers to (summed when the tensor is used more than once).
#pragma once

#include "tapeless/core/error.hpp"
#include "tapeless/core/leaf.hpp"
#include "tapeless/core/node.hpp"
#include "tapeless/engine/plan.hpp"

#include <boost/hana/at.hpp>
#include <boost/hana/basic_tuple.hpp>

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace tapeless {

namespace detail {
template <class L, class... Wrt>
struct slots;
template <class... T, class... Wrt>
struct slots<type_list<T...>, Wrt...> {
  using type = boost::hana::basic_tuple<slot<T, active_v<T, Wrt...>>...>;
};

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

  using plan = detail::plan<detail::flatten_t<Expr>>;
  static constexpr std::size_t size = plan::size;
  static constexpr std::size_t root = size - 1;
  static constexpr bool wants_gradient = sizeof...(Wrt) > 0;

 public:
  using scalar_type = scalar_t<Expr>;
  using value_type = value_storage_t<Expr>;

  /// Plans storage for `expr` (copied: inner nodes by value, tensors by reference) and the
  /// gradients with respect to `wrt`; allocates everything it will ever need. Throws
  /// `shape_error` when a run-time (batch) dimension breaks a shape rule.
  explicit Program(Expr expr, const Wrt&... wrt)
      : expr_(std::move(expr)), wrt_{&wrt...}, grads_{gradient_storage<Wrt>::make(wrt)...} {
    static_assert(!wants_gradient || (dims_v<Expr>.rows == 1 && dims_v<Expr>.cols == 1),
                  "tapeless::grad: the loss must be a 1x1 expression (reduce it with sum() or mean())");
    if constexpr (wants_gradient) (void)detail::check_wrt<Expr, Wrt...>();
    std::array<const void*, size> nodes{};
    find_aliases<root>(expr_, nodes);
    count_uses<root>(expr_);
    for (std::size_t j = 0; j < sizeof...(Wrt); ++j)
      if (uses_[j] == 0)
        throw std::invalid_argument("tapeless::grad: requested tensor #" + std::to_string(j) +
                                    " is not an operand of the expression along a differentiable path");
    prepare<root>(expr_, true);
    size_gradients(true);
  }

  /// Computes every value of the expression once, in post-order.
  void forward() {
    if constexpr (plan::has_dynamic) {
      prepare<root>(expr_, false);
      size_gradients(false);  // a requested tensor may itself have a batch dimension
    }
    forward_at<root>(expr_);
  }

  /// Computes the gradient of the (1x1) result with respect to every requested tensor. Reads the
  /// values of the last forward(); call forward() first.
  void backward() requires wants_gradient {
    zero_shared<0>();
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      ((uses_[J] > 1 ? (void)std::get<J>(grads_).setZero() : (void)0), ...);
    }
    (std::index_sequence_for<Wrt...>{});
    if constexpr (is_leaf_v<Expr>) {
      accumulate<root>(expr_, value_type::Ones());
    } else {
      slot<root>().adj.setOnes();
      backward_at<root>(expr_);
    }
  }

  /// forward() then backward().
  void run() {
    forward();
    if constexpr (wants_gradient) backward();
  }

  /// The value of the whole expression (valid after forward()).
  const auto& value() const {
    if constexpr (is_leaf_v<Expr>)
      return expr_traits<Expr>::value(expr_);
    else
      return slot<root>().value;
  }

  /// The value of a 1x1 expression as a number.
  scalar_type scalar() const requires(dims_v<Expr>.rows == 1 && dims_v<Expr>.cols == 1) { return value()(0, 0); }

  /// Gradient with respect to the J-th requested tensor.
  template <std::size_t J>
  const auto& gradient() const {
    return std::get<J>(grads_);
  }

  /// Gradient with respect to a requested tensor, found by identity; throws std::invalid_argument
  /// if `w` was not requested.
  template <TensorLike T>
  const auto& gradient(const T& w) const {
    static_assert(detail::contains_v<T, Wrt...>, "tapeless::Program::gradient: no requested tensor has this type");
    const gradient_storage_t<T>* found = nullptr;
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      (([&] {
         if constexpr (std::is_same_v<std::tuple_element_t<J, std::tuple<Wrt...>>, T>)
           if (!found && std::get<J>(wrt_) == &w) found = &std::get<J>(grads_);
       }()),
       ...);
    }
    (std::index_sequence_for<Wrt...>{});
    if (!found) throw std::invalid_argument("tapeless::Program::gradient: this tensor was not requested");
    return *found;
  }
  template <TensorLike T>
  const auto& operator[](const T& w) const {
    return gradient(w);
  }

  /// How many distinct positions the plan has (leaves included): a compile-time fact.
  static constexpr std::size_t positions() { return size; }
  /// Whether position `i` reads another position's value (decided at construction).
  bool is_alias(std::size_t i) const { return i < size && alias_[i]; }

 private:
  template <std::size_t P>
  auto& slot() {
    return boost::hana::at_c<P>(slots_);
  }
  template <std::size_t P>
  const auto& slot() const {
    return boost::hana::at_c<P>(slots_);
  }

  // The slot that holds position P's value and adjoint: P's own, or the earlier one it aliases.
  template <std::size_t P>
  auto& resolved() {
    if constexpr (plan::candidate(P))
      return alias_[P] ? slot<plan::first[P]>() : slot<P>();
    else
      return slot<P>();
  }

  // Calls f(integral_constant<T>) for the position T that the Shared leaf at P stands for
  // (decided at construction), and returns what it returns.
  template <std::size_t P, class F>
  decltype(auto) at_target(F&& f) {
    constexpr auto& cs = plan::template candidates<P>;
    static_assert(cs.size() > 0, "tapeless::shared(x) must stand to the right of x in the same expression");
    if constexpr (plan::adjacent[P]) {
      return f(std::integral_constant<std::size_t, plan::nearest[P]>{});
    } else if constexpr (cs.size() == 1) {
      return f(std::integral_constant<std::size_t, cs[0]>{});
    } else {
      using R = decltype(f(std::integral_constant<std::size_t, cs[0]>{}));
      return [&]<std::size_t... K>(std::index_sequence<K...>)->R {
        if constexpr (std::is_void_v<R>) {
          ((target_[P] == cs[K] ? f(std::integral_constant<std::size_t, cs[K]>{}) : void()), ...);
        } else {
          std::remove_reference_t<R>* r = nullptr;
          ((target_[P] == cs[K] ? (void)(r = &f(std::integral_constant<std::size_t, cs[K]>{})) : void()), ...);
          return *r;
        }
      }
      (std::make_index_sequence<cs.size()>{});
    }
  }

  template <std::size_t P, class E>
  const auto& arg_value(const E& e) {
    if constexpr (is_shared_v<E>) {
      return at_target<P>([&](auto t) -> const auto& { return resolved<decltype(t)::value>().value; });
    } else if constexpr (is_leaf_v<E>) {
      return expr_traits<E>::value(e);
    } else {
      return resolved<P>().value;
    }
  }

  // Binds the Shared leaf `e` at position Pos to the node to its left that matches its signature.
  template <std::size_t Pos, class E>
  void bind_shared(const E& e, const std::array<const void*, size>& nodes) {
    constexpr auto& cs = plan::template candidates<Pos>;
    static_assert(cs.size() > 0, "tapeless::shared(x) must stand to the right of x in the same expression");
    if constexpr (!plan::adjacent[Pos]) {
      using Target = typename detail::referent<E>::type;
      std::size_t found = size;
      [&]<std::size_t... K>(std::index_sequence<K...>) {
        (([&] {
           const Target& candidate = *static_cast<const Target*>(nodes[cs[K]]);
           if (!detail::matches(e.ref_, candidate)) return;
           if (found == size)
             found = cs[K];
           else if (!detail::same_expr(*static_cast<const Target*>(nodes[found]), candidate))
             throw std::invalid_argument("tapeless::shared: the reference at position " + std::to_string(Pos) +
                                         " is ambiguous: nodes " + std::to_string(found) + " and " +
                                         std::to_string(cs[K]) + " both match it and differ");
         }()),
         ...);
      }
      (std::make_index_sequence<cs.size()>{});
      if (found == size)
        throw std::invalid_argument("tapeless::shared: the node referred to at position " + std::to_string(Pos) +
                                    " is not to its left in this expression (shared(x) needs x itself as an "
                                    "operand to the left; nodes of its type there compute something else)");
      target_[Pos] = found;
    }
  }

  template <std::size_t Pos, class E>
  void find_aliases(const E& e, std::array<const void*, size>& nodes) {
    if constexpr (!is_leaf_v<E>) {
      constexpr auto& cp = detail::child_positions<E, Pos>;
      [&]<std::size_t... K>(std::index_sequence<K...>) {
        (find_aliases<cp[K]>(boost::hana::at_c<K>(e.args_), nodes), ...);
      }
      (std::make_index_sequence<cp.size()>{});
      if constexpr (plan::candidate(Pos))
        alias_[Pos] = detail::same_expr(e, *static_cast<const E*>(nodes[plan::first[Pos]]));
    } else if constexpr (is_shared_v<E>) {
      bind_shared<Pos>(e, nodes);
    }
    nodes[Pos] = &e;
  }

  // Counts, for each requested tensor, the leaf positions the backward pass will reach it at.
  template <std::size_t Pos, class E>
  void count_uses(const E& e) {
    if constexpr (is_leaf_v<E>) {
      if constexpr (expr_traits<E>::kind == LeafKind::variable) for_each_wrt_of(e, [&](auto j) { ++uses_[j]; });
    } else if constexpr (detail::active_v<E, Wrt...>) {
      if constexpr (plan::candidate(Pos))
        if (alias_[Pos]) return;
      constexpr auto& cp = detail::child_positions<E, Pos>;
      [&]<class Op, class... A, std::size_t... K>(const Node<Op, A...>&, std::index_sequence<K...>) {
        ((op_traits<Op>::differentiable(K) ? count_uses<cp[K]>(boost::hana::at_c<K>(e.args_)) : void()), ...);
      }(e, std::make_index_sequence<cp.size()>{});
    }
  }

  // Calls f(integral_constant<J>) for every requested tensor J that leaf `v` refers to.
  template <class T, class F>
  void for_each_wrt_of(const Var<T>& v, F&& f) {
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      (([&] {
         if constexpr (std::is_same_v<std::tuple_element_t<J, std::tuple<Wrt...>>, T>)
           if (std::get<J>(wrt_) == v.tensor_) f(std::integral_constant<std::size_t, J>{});
       }()),
       ...);
    }
    (std::index_sequence_for<Wrt...>{});
  }

  // Computes run-time shapes, checks every op's rule on them, sizes storage where they changed
  // (and zero-fills all of it when `initial`).
  template <std::size_t Pos, class E>
  Dims prepare(const E& e, bool initial) {
    if constexpr (is_shared_v<E>) {
      const auto& v = arg_value<Pos>(e);  // the node it stands for: prepared already (post-order)
      return {v.rows(), v.cols()};
    } else if constexpr (is_leaf_v<E>) {
      return expr_traits<E>::runtime_dims(e);
    } else {
      return [&]<class Op, class... A>(const Node<Op, A...>& n) {
        constexpr auto& cp = detail::child_positions<E, Pos>;
        return [&]<std::size_t... K>(std::index_sequence<K...>) {
          const std::array<Dims, sizeof...(A)> in{prepare<cp[K]>(boost::hana::at_c<K>(n.args_), initial)...};
          if (!op_traits<Op>::valid(in[K]...)) {
            std::string shapes;
            ((shapes += (K ? " and " : "") + to_string(in[K])), ...);
            throw shape_error("tapeless: " + std::string(op_traits<Op>::name()) + ": operand shapes " + shapes +
                              " do not fit");
          }
          const Dims d = Op::shape(in[K]...);
          auto& s = slot<Pos>();
          size_to(s.value, d, initial);
          size_to(s.adj, d, initial);
          if constexpr (WithScratch<Op>)
            Op::reserve(s.work, in[K]...);
          else
            size_to(s.work, in[detail::workspace_operand<Op>], initial);
          return d;
        }
        (std::index_sequence_for<A...>{});
      }(e);
    }
  }

  void size_gradients(bool initial) {
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      (size_to(std::get<J>(grads_), std::get<J>(wrt_)->dims(), initial), ...);
    }
    (std::index_sequence_for<Wrt...>{});
  }

  template <class M>
  static void size_to(M& m, Dims d, bool initial) {
    if constexpr (std::is_base_of_v<Eigen::PlainObjectBase<M>, M>) {
      if (initial || m.rows() != d.rows || m.cols() != d.cols) m.setZero(d.rows, d.cols);
    } else if (initial) {
      m.setZero();  // memory owned elsewhere (a TensorRef's gradient): fixed shape, only cleared
    }
  }
  static void size_to(detail::none&, Dims, bool) {}

  template <std::size_t Pos, class E>
  void forward_at(const E& e) {
    if constexpr (!is_leaf_v<E>) {
      if constexpr (plan::candidate(Pos))
        if (alias_[Pos]) return;
      constexpr auto& cp = detail::child_positions<E, Pos>;
      [&]<std::size_t... K>(std::index_sequence<K...>) {
        (forward_at<cp[K]>(boost::hana::at_c<K>(e.args_)), ...);
        auto& s = slot<Pos>();
        if constexpr (WithWork<std::remove_cvref_t<decltype(e.op_)>>)
          e.op_.forward(s.value, s.work, arg_value<cp[K]>(boost::hana::at_c<K>(e.args_))...);
        else
          e.op_.forward(s.value, arg_value<cp[K]>(boost::hana::at_c<K>(e.args_))...);
      }
      (std::make_index_sequence<cp.size()>{});
    }
  }

  template <std::size_t Pos, class E>
  void backward_at(const E& e) {
    if constexpr (!is_leaf_v<E> && detail::active_v<E, Wrt...>) {
      if constexpr (plan::candidate(Pos))
        if (alias_[Pos]) return;
      constexpr auto& cp = detail::child_positions<E, Pos>;
      constexpr std::size_t n = cp.size();
      [&]<std::size_t... K>(std::index_sequence<K...>) {
        auto& s = slot<Pos>();
        adjoints<Pos, E> d{this, &e};
        if constexpr (WithWork<std::remove_cvref_t<decltype(e.op_)>>)
          e.op_.backward(d, s.adj, s.value, s.work, arg_value<cp[K]>(boost::hana::at_c<K>(e.args_))...);
        else
          e.op_.backward(d, s.adj, s.value, arg_value<cp[K]>(boost::hana::at_c<K>(e.args_))...);
        (backward_at<cp[n - 1 - K]>(boost::hana::at_c<n - 1 - K>(e.args_)), ...);
      }
      (std::make_index_sequence<n>{});
    }
  }

  template <class Dst, class X>
  static void add_to(Dst& dst, const X& x, bool assign) {
    if constexpr (std::is_arithmetic_v<X>) {
      if (assign)
        dst(0, 0) = x;
      else
        dst(0, 0) += x;
    } else {
      if (assign)
        dst.noalias() = x;
      else
        dst.noalias() += x;
    }
  }

  // Adds `x` to the adjoint of position P (node `e`).
  template <std::size_t P, class E, class X>
  void accumulate(const E& e, const X& x) {
    if constexpr (is_shared_v<E>) {
      at_target<P>(
          [&](auto t) { add_to(resolved<decltype(t)::value>().adj, x, false); });  // summed: plan::shared marks it
    } else if constexpr (is_leaf_v<E>) {
      static_assert(expr_traits<E>::kind == LeafKind::variable);
      for_each_wrt_of(e, [&](auto j) { add_to(std::get<j>(grads_), x, uses_[j] == 1); });
    } else {
      add_to(resolved<P>().adj, x, !plan::shared[P]);
    }
  }

  // Adds the product a b to the adjoint of position P (node `e`), through `gemm`.
  template <std::size_t P, class E, class A, class B, class G>
  void accumulate_product(const E& e, const A& a, const B& b, G& gemm) {
    if constexpr (is_shared_v<E>) {
      at_target<P>([&](auto t) { gemm.run(resolved<decltype(t)::value>().adj, a, b, true); });
    } else if constexpr (is_leaf_v<E>) {
      for_each_wrt_of(e, [&](auto j) { gemm.run(std::get<j>(grads_), a, b, uses_[j] != 1); });
    } else {
      gemm.run(resolved<P>().adj, a, b, plan::shared[P]);
    }
  }

  // Zeroes the adjoints that are summed (positions whose type occurs more than once).
  template <std::size_t P>
  void zero_shared() {
    if constexpr (P < size) {
      if constexpr (plan::shared[P])
        if constexpr (!std::is_same_v<decltype(slot<P>().adj), detail::none>) slot<P>().adj.setZero();
      zero_shared<P + 1>();
    }
  }

  // The `d` an op's backward receives: d[arg<k>] is operand k's adjoint sink.
  template <std::size_t Pos, class E>
  struct adjoints {
    Program* program;
    const E* node;
    template <std::size_t K>
    auto operator[](std::integral_constant<std::size_t, K>) const {
      return [&]<class Op, class... A>(const Node<Op, A...>*) {
        using child = std::tuple_element_t<K, std::tuple<A...>>;
        constexpr std::size_t child_pos = detail::child_positions<E, Pos>[K];
        constexpr bool is_active = op_traits<Op>::differentiable(K) && detail::active_v<child, Wrt...>;
        return sink<child_pos, child, is_active>{program, &boost::hana::at_c<K>(node->args_)};
      }(node);
    }
  };

  template <std::size_t P, class C, bool Active>
  struct sink {
    Program* program;
    const C* node;
    /// Whether this operand needs its adjoint (a compile-time constant).
    static constexpr bool active = Active;
    template <class X>
    void operator+=(const X& x) const {
      if constexpr (Active) program->template accumulate<P>(*node, x);
    }
    /// Adds the matrix product a b, computed by `gemm` (a detail::Gemm the op keeps as scratch).
    template <class A, class B, class G>
    void add_product(const A& a, const B& b, G& gemm) const {
      if constexpr (Active) program->template accumulate_product<P>(*node, a, b, gemm);
    }
  };

  Expr expr_;
  typename detail::slots<detail::flatten_t<Expr>, Wrt...>::type slots_{};
  std::array<bool, size> alias_{};
  std::array<std::size_t, size> target_{};  // what each Shared leaf stands for (bind_shared)
  std::tuple<const Wrt*...> wrt_;
  std::tuple<gradient_storage_t<Wrt>...> grads_;
  std::array<int, sizeof...(Wrt)> uses_{};
};

template <class Expr, class... Wrt>
Program(Expr, const Wrt&...) -> Program<Expr, Wrt...>;

/// What an expression that failed its compile-time check yields: accepts every use silently, so
/// that the one shape diagnostic is the only error.
template <class... Wrt>
class Program<InvalidExpr, Wrt...> {
 public:
  using scalar_type = double;
  using value_type = Eigen::MatrixXd;
  explicit Program(InvalidExpr, const Wrt&...) {}
  void forward() {}
  void backward() {}
  void run() {}
  const Eigen::MatrixXd& value() const { return dummy(); }
  double scalar() const { return 0; }
  template <std::size_t J>
  const Eigen::MatrixXd& gradient() const {
    return dummy();
  }
  template <class T>
  const Eigen::MatrixXd& gradient(const T&) const {
    return dummy();
  }
  template <class T>
  const Eigen::MatrixXd& operator[](const T&) const {
    return dummy();
  }

 private:
  static const Eigen::MatrixXd& dummy() {
    static const Eigen::MatrixXd m = Eigen::MatrixXd::Zero(1, 1);
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
