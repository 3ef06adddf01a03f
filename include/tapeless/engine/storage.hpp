/// @file
/// @brief The storage a program plans: one slot per position, and how it is sized.
///
/// A node's slot holds its value, its adjoint (only when the position is active) and its op's
/// workspace (only when the op declares one: the op protocol, core/node.hpp). A leaf's slot is
/// empty: leaves are read where they live. Slots are members of a `hana::basic_tuple`, so the
/// program's storage is one object whose layout is fixed at compile time; matrices beyond
/// `fixed_dimension_limit` or with a batch dimension are heap matrices sized here, once, and again
/// only when a batch dimension changes.
#pragma once

#include "tapeless/core/node.hpp"
#include "tapeless/core/storage.hpp"
#include "tapeless/engine/plan.hpp"

#include <boost/hana/basic_tuple.hpp>

#include <type_traits>

namespace tapeless::detail {

/// An empty member when a piece of storage is not needed.
struct none {};

template <bool Need, class T>
using maybe_t = std::conditional_t<Need, T, none>;

/// The workspace type an op declares for these operands, or `none`.
template <class Op, class... A>
struct workspace_of {
  using type = none;
};
template <class Op, class... A>
requires HasWorkspace<Op, scalar_t<Node<Op, A...>>, dims_v<A>...>
struct workspace_of<Op, A...> {
  using type = typename Op::template workspace<scalar_t<Node<Op, A...>>, dims_v<A>...>;
};

/// Storage of one position: nothing for a leaf; value, adjoint (when active) and workspace (when
/// the op declares one) for a node.
template <class E, bool Active>
struct slot {};
template <class Op, class... A, bool Active>
struct slot<Node<Op, A...>, Active> {
  using value_type = value_storage_t<Node<Op, A...>>;
  value_type value;
  [[no_unique_address]] maybe_t<Active, value_type> adj;
  [[no_unique_address]] typename workspace_of<Op, A...>::type work;
};

template <class L, class... Wrt>
struct slots;
template <class... T, class... Wrt>
struct slots<type_list<T...>, Wrt...> {
  using type = boost::hana::basic_tuple<slot<T, active_v<T, Wrt...>>...>;
};
template <class E, class... Wrt>
using slots_t = typename slots<flatten_t<E>, Wrt...>::type;

/// Gives `m` the run-time shape `d`: a heap matrix is resized (and zeroed) only if its shape
/// changed, or on the first sizing (`initial`), which zero-fills everything.
template <class M>
void size_to(M& m, Dims d, bool initial) {
  if constexpr (std::is_base_of_v<Eigen::PlainObjectBase<M>, M>) {
    if (initial || m.rows() != d.rows || m.cols() != d.cols) m.setZero(d.rows, d.cols);
  } else if (initial) {
    m.setZero();  // memory owned elsewhere (a TensorRef's gradient): fixed shape, only cleared
  }
}
inline void size_to(none&, Dims, bool) {}

}  // namespace tapeless::detail
