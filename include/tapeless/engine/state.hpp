/// @file
/// @brief What a program holds, and how a position finds the storage it reads and writes.
///
/// `program_state` is the data of a `Program` (engine/program.hpp): the expression, the slots
/// (engine/storage.hpp), the construction-time identity decisions (engine/identity.hpp) and the
/// gradients of the requested tensors. The passes are free functions over it: identity and
/// sizing (planning), then forward and backward (evaluation, engine/evaluate.hpp).
#pragma once

#include "tapeless/core/leaf.hpp"
#include "tapeless/core/shape.hpp"
#include "tapeless/engine/storage.hpp"
#include "tapeless/engine/visit.hpp"

#include <boost/hana/basic_tuple.hpp>

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace tapeless::detail {

/// How many positions of a flattened expression have type Leaf.
template <class Leaf, class... E>
constexpr std::size_t leaves_of(type_list<E...>*) {
  return (std::size_t{std::is_same_v<E, Leaf>} + ... + 0);
}

template <class Expr, class... Wrt>
struct program_state {
  using plan = detail::plan<flatten_t<Expr>>;
  static constexpr std::size_t size = plan::size;
  static constexpr std::size_t root = size - 1;

  Expr expr;
  slots_t<Expr, Wrt...> slots{};
  std::array<bool, size> alias{};          // position i reads slot first[i] (identity.hpp)
  std::array<std::size_t, size> target{};  // the node each Shared leaf stands for (identity.hpp)
  std::array<Dims, size> dims{};           // run-time shapes of the last sizing (sizing.hpp)
  std::tuple<const Wrt*...> wrt;
  std::tuple<gradient_storage_t<Wrt>...> grads;
  std::array<int, sizeof...(Wrt)> uses{};  // leaf positions backward reaches each tensor at

  template <std::size_t P>
  auto& slot() {
    return boost::hana::at_c<P>(slots);
  }
  template <std::size_t P>
  const auto& slot() const {
    return boost::hana::at_c<P>(slots);
  }

  /// The slot that holds position P's value and adjoint: P's own, or the earlier one it aliases.
  template <std::size_t P>
  auto& resolved() {
    if constexpr (plan::candidate(P))
      return alias[P] ? slot<plan::first[P]>() : slot<P>();
    else
      return slot<P>();
  }

  /// Whether position P computes its own value: not an alias (a candidate found identical at
  /// construction). `std::true_type` where the plan already knows it.
  template <std::size_t P>
  auto distinct() const {
    if constexpr (!plan::candidate(P))
      return std::true_type{};
    else
      return !alias[P];
  }

  /// Calls f(at<T>) for the position T that the Shared leaf at P stands for, and returns what it
  /// returns. One candidate (or Residual's adjacent one) costs nothing; several, one branch each.
  template <std::size_t P, class F>
  decltype(auto) at_target(F&& f) {
    constexpr auto& cs = plan::template candidates<P>;
    static_assert(cs.size() > 0, "tapeless::shared(x) must stand to the right of x in the same expression");
    if constexpr (plan::adjacent[P]) {
      return f(at<plan::nearest[P]>{});
    } else if constexpr (cs.size() == 1) {
      return f(at<cs[0]>{});
    } else {
      using R = decltype(f(at<cs[0]>{}));
      return [&]<std::size_t... K>(std::index_sequence<K...>)->R {
        if constexpr (std::is_void_v<R>) {
          ((target[P] == cs[K] ? f(at<cs[K]>{}) : void()), ...);
        } else {
          std::remove_reference_t<R>* r = nullptr;
          ((target[P] == cs[K] ? (void)(r = &f(at<cs[K]>{})) : void()), ...);
          return *r;
        }
      }
      (std::make_index_sequence<cs.size()>{});
    }
  }

  /// The value of position P (expression `e`) as its readers see it.
  template <std::size_t P, class E>
  const auto& value(const E& e) {
    if constexpr (is_shared_v<E>)
      return at_target<P>([&](auto t) -> const auto& { return resolved<t()>().value; });
    else if constexpr (is_leaf_v<E>)
      return expr_traits<E>::value(e);
    else
      return resolved<P>().value;
  }

  /// Calls f(at<J>) for every requested tensor J, in order.
  template <class F>
  static void for_each_wrt(F&& f) {
    [&]<std::size_t... J>(std::index_sequence<J...>) { (f(at<J>{}), ...); }
    (std::index_sequence_for<Wrt...>{});
  }

  /// Whether requested tensor J can be reached at one leaf position only, known from the types:
  /// no other position holds a variable of its type. Backward then reaches it exactly once
  /// (bind_identities refuses a tensor it never reaches), and its gradient is assigned.
  template <std::size_t J>
  static constexpr bool single_use =
      leaves_of<Var<std::tuple_element_t<J, std::tuple<Wrt...>>>>(static_cast<flatten_t<Expr>*>(nullptr)) <= 1;

  /// Calls f(at<J>) for every requested tensor J that the variable leaf `v` refers to.
  template <class T, class F>
  void for_each_wrt_of(const Var<T>& v, F&& f) {
    for_each_wrt([&](auto j) {
      if constexpr (std::is_same_v<std::tuple_element_t<j(), std::tuple<Wrt...>>, T>)
        if (std::get<j()>(wrt) == v.tensor) f(j);
    });
  }

  /// Whether backward may visit position P (type E), known at compile time: a requested variable
  /// lies below it through operands the ops differentiate through.
  template <std::size_t P, class E>
  static constexpr bool reachable = plan::on_path[P] && active_v<E, Wrt...>;

  /// Whether backward visits position P (expression `e`): reachable (compile time), and not an
  /// alias (run time).
  template <std::size_t P, class E>
  auto live(const E&) const {
    if constexpr (!reachable<P, E>)
      return std::false_type{};
    else
      return distinct<P>();
  }

  /// `enter` callbacks for `visit`: the distinct positions (forward), the live ones (backward,
  /// and the use counts that decide how backward writes gradients).
  auto distinct_positions() const {
    return [&](auto at, const auto&) { return distinct<at()>(); };
  }
  auto live_positions() const {
    return [&](auto at, const auto& e) { return live<at()>(e); };
  }
};

}  // namespace tapeless::detail
