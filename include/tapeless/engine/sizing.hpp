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
