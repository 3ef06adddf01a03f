/// @file
/// @brief Run-time shapes: each op's shape rule checked on the actual (batch) dimensions, and
/// every slot, workspace and gradient sized for them.
///
/// One post-order walk: a leaf's shape is where it lives, a Shared leaf's is its target's (sized
/// already, to its left), a node's is `Op::shape` of its operands' after `Op::valid` held. Nothing
/// is computed on a shape that breaks a rule: the walk throws `shape_error` naming the op and the
/// shapes first. Storage is resized only where a shape changed.
#pragma once

#include "tapeless/core/error.hpp"
#include "tapeless/engine/state.hpp"

#include <cstddef>
#include <string>
#include <tuple>
#include <utility>

namespace tapeless::detail {

/// The error of a leaf holding a value of another shape than its type declares (out of line:
/// the check runs before every forward, the message almost never).
[[noreturn, gnu::cold, gnu::noinline]] inline void throw_leaf_shape(Dims declared, Dims held) {
  throw shape_error("tapeless: a tensor declared " + to_string(declared) + " holds a " + to_string(held) +
                    " value (assigned through its value(), which does not check; assign the tensor itself)");
}

/// Throws shape_error when a leaf of type E holds a value of another shape than its type declares
/// (a tensor's raw Eigen value() assigned a matrix of another shape): nothing is computed on it.
template <class E>
void check_leaf(Dims held) {
  constexpr Dims declared = dims_v<E>;
  if ((declared.rows != dynamic && held.rows != declared.rows) || held.cols != declared.cols) [[unlikely]]
    throw_leaf_shape(declared, held);
}

/// Calls f(position, leaf type tag, held shape) for every leaf whose storage has a run-time size
/// (a fixed-size one cannot change): what check_leaves and leaves_as_sized compare.
template <class State, class F>
void for_each_sized_leaf(const State& s, F&& f) {
  visit<order::post, State::root>(s.expr, everywhere, [&](auto at, const auto& e) {
    using E = std::remove_cvref_t<decltype(e)>;
    if constexpr (is_leaf_v<E> && !is_shared_v<E>) {
      using V = std::remove_cvref_t<decltype(expr_traits<E>::value(e))>;
      if constexpr (V::RowsAtCompileTime == Eigen::Dynamic || V::ColsAtCompileTime == Eigen::Dynamic)
        f(at, static_cast<const E*>(nullptr), expr_traits<E>::runtime_dims(e));
    }
  });
}

/// check_leaf for every leaf whose storage has a run-time size: a program without batch
/// dimensions does this instead of size_storage before each forward.
template <class State>
void check_leaves(const State& s) {
  for_each_sized_leaf(
      s, [](auto, const auto* leaf, Dims held) { check_leaf<std::remove_cvref_t<decltype(*leaf)>>(held); });
}

/// True when every leaf whose storage has a run-time size holds a value of the shape it had at
/// the last sizing: then every node's shape is what it was (shapes are computed from the
/// leaves'), so nothing needs checking or resizing. A run-time batch of unchanged size takes
/// this path before each forward instead of size_storage's walk.
template <class State>
bool leaves_as_sized(const State& s) {
  bool same = true;
  for_each_sized_leaf(s, [&](auto at, const auto*, Dims held) {
    same &= held.rows == s.dims[at()].rows && held.cols == s.dims[at()].cols;
  });
  return same;
}

/// Computes every position's run-time shape and sizes storage for it (zero-filling all of it
/// when `initial`). Throws shape_error when a run-time dimension breaks an op's shape rule.
template <class State>
void size_storage(State& s, bool initial) {
  visit<order::post, State::root>(s.expr, everywhere, [&](auto at, const auto& e) {
    constexpr std::size_t p = at();
    using E = std::remove_cvref_t<decltype(e)>;
    if constexpr (is_shared_v<E>) {
      s.template at_target<p>([&](auto t) { s.dims[p] = s.dims[t()]; });
    } else if constexpr (is_leaf_v<E>) {
      s.dims[p] = expr_traits<E>::runtime_dims(e);
      check_leaf<E>(s.dims[p]);
    } else {
      using Op = std::remove_cvref_t<decltype(e.op)>;
      auto operand_dims = [&](auto c, const auto&) { return s.dims[c()]; };
      with_operands<p>(e, operand_dims, [&](auto... in) {
        if (!op_traits<Op>::valid(in...)) {
          std::string shapes;
          ((shapes += shapes.empty() ? "" : " and ", shapes += to_string(in)), ...);
          throw shape_error("tapeless: " + std::string(op_traits<Op>::name()) + ": operand shapes " + shapes +
                            " do not fit");
        }
        const Dims d = s.dims[p] = Op::shape(in...);
        auto& slot = s.template slot<p>();
        size_to(slot.value, d, initial);
        size_to(slot.adj, d, initial);
        if constexpr (requires { Op::reserve(slot.work, in...); }) Op::reserve(slot.work, in...);
      });
    }
  });
  s.for_each_wrt([&](auto j) { size_to(std::get<j()>(s.grads), std::get<j()>(s.wrt)->dims(), initial); });
}

}  // namespace tapeless::detail
