/// @file
/// @brief `log_softmax(x)`: row-wise log of the softmax, computed stably.
///
/// Forward: y_ij = x_ij - m_i - log sum_k exp(x_ik - m_i), m_i = max_k x_ik.
/// Adjoint: dx_i += g_i - exp(y_i) * sum_k g_ik, per row i (exp(y) is the softmax).
#pragma once

#include "tapeless/core/node.hpp"

#include <cmath>
#include <string_view>
#include <utility>

namespace tapeless {
/// The op of `log_softmax`; also a parameter-free layer (layers/layer.hpp).
struct LogSoftmax : WorkspaceLike<0> {
  static constexpr bool workspace_is_scratch = true;  // backward fills it before reading it
  static constexpr std::string_view name = "LogSoftmax";
  static constexpr Dims shape(Dims x) { return x; }
  template <class Y, class W, class X>
  void forward(Y& y, W&, const X& x) const {
    using std::log;
    for (Index i = 0; i < x.rows(); ++i) {
      const auto m = x.row(i).maxCoeff();
      const auto lse = m + log((x.row(i).array() - m).exp().sum());
      y.row(i) = (x.row(i).array() - lse).matrix();
    }
  }
  template <class D, class G, class Y, class W, class X>
  void backward(D& d, const G& g, const Y& y, W& work, const X&) const {
    if (!d[arg<0>].active) return;
    for (Index i = 0; i < y.rows(); ++i)
      work.row(i) = (g.row(i).array() - y.row(i).array().exp() * g.row(i).sum()).matrix();
    d[arg<0>] += work;
  }
};

/// Row-wise log-softmax.
template <Operand X>
requires ExprLike<X>
auto log_softmax(X&& x) { return make_node(LogSoftmax{}, std::forward<X>(x)); }
}  // namespace tapeless
