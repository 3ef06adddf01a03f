/// @file
/// @brief `softmax(x)`: row-wise softmax (each row of a batch is one distribution).
///
/// Forward: y_ij = exp(x_ij - m_i) / sum_k exp(x_ik - m_i), m_i = max_k x_ik (for stability).
/// Adjoint: dx_i += y_i .* (g_i - <g_i, y_i>), per row i.
/// For a classifier's loss use softmax_cross_entropy, whose fused adjoint is cheaper and exact.
#pragma once

#include "tapeless/core/node.hpp"

#include <string_view>
#include <utility>

namespace tapeless {
/// The op of `softmax`; also a parameter-free layer (layers/layer.hpp).
struct Softmax : WorkspaceLike<0> {
  static constexpr bool workspace_is_scratch = true;  // backward fills it before reading it
  static constexpr std::string_view name = "Softmax";
  static constexpr Dims shape(Dims x) { return x; }
  template <class Y, class W, class X>
  void forward(Y& y, W&, const X& x) const {
    for (Index i = 0; i < x.rows(); ++i) {
      y.row(i) = (x.row(i).array() - x.row(i).maxCoeff()).exp().matrix();
      y.row(i) /= y.row(i).sum();
    }
  }
  template <class D, class G, class Y, class W, class X>
  void backward(D& d, const G& g, const Y& y, W& work, const X&) const {
    if (!d[arg<0>].active) return;
    for (Index i = 0; i < y.rows(); ++i) {
      const auto dot = g.row(i).dot(y.row(i));
      work.row(i) = (y.row(i).array() * (g.row(i).array() - dot)).matrix();
    }
    d[arg<0>] += work;
  }
};

/// Row-wise softmax.
template <Operand X>
requires ExprLike<X>
auto softmax(X&& x) { return make_node(Softmax{}, std::forward<X>(x)); }
}  // namespace tapeless
