/// @file
/// @brief `mse(p, t)`: the mean squared error over all coefficients.
///
/// Forward: y = (1/n) sum_ij (p_ij - t_ij)^2, n = rows * cols.
/// Adjoint: dp += 2 g (p - t) / n,  dt += -2 g (p - t) / n.
#pragma once

#include "tapeless/core/leaf.hpp"
#include "tapeless/core/node.hpp"
#include "tapeless/core/tensor.hpp"

#include <string_view>
#include <utility>

namespace tapeless {
/// The op of `mse`, and the loss a `Trainer` minimises with it (targets of the output's shape).
struct MSE {
  /// The targets a Trainer keeps for a batch of `Batch` rows and `Out` outputs.
  template <class S, int Batch, int Out>
  using target_type = Tensor<S, Batch, Out>;
  /// The loss of a network's output `prediction` against targets `t` (data: no gradient flows into them).
  template <class P, class Tg>
  static auto apply(P&& prediction, const Tg& t) {
    return make_node(MSE{}, std::forward<P>(prediction), input(t));
  }

  static constexpr std::string_view name = "mse";
  static constexpr Dims shape(Dims, Dims) { return {1, 1}; }
  static constexpr bool valid(Dims p, Dims t) { return dims_fit(p, t); }
  template <class Y, class P, class T>
  void forward(Y& y, const P& p, const T& t) const {
    y(0, 0) = (p - t).squaredNorm() / static_cast<typename P::Scalar>(p.size());
  }
  template <class D, class G, class Y, class P, class T>
  void backward(D& d, const G& g, const Y&, const P& p, const T& t) const {
    const auto scale = 2 * g(0, 0) / static_cast<typename P::Scalar>(p.size());
    d[arg<0>] += (p - t) * scale;
    d[arg<1>] += (p - t) * -scale;
  }
};

/// Mean squared error between `p` and `t` (same shape).
template <Operand P, Operand T>
requires ExprLike<P> && ExprLike<T>
auto mse(P&& p, T&& t) { return make_node(MSE{}, std::forward<P>(p), std::forward<T>(t)); }
}  // namespace tapeless
