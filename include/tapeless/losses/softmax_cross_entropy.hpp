/// @file
/// @brief `softmax_cross_entropy(z, t)`: the fused softmax + cross-entropy loss, averaged over
/// the batch (rows of z).
///
/// z is m x n logits. The targets t are either one-hot rows (m x n, floating point) or class
/// indices (m x 1, any integer type). With p = softmax(z) row-wise and lse_i = log sum_j exp(z_ij):
/// Forward: y = -(1/m) sum_i sum_j t_ij (z_ij - lse_i)   (or -(1/m) sum_i (z_i,t_i - lse_i)).
/// Adjoint: dz_i += g (p_i * sum_j t_ij - t_i) / m, which for one-hot or probability rows is
/// g (p - t) / m — "(softmax - onehot) / batch", the textbook SoftmaxWithLoss. The workspace
/// keeps p_i * sum_j t_ij from the forward pass, so the adjoint is one expression (for class
/// indices, one expression and a correction of one coefficient per row).
/// The targets are data: they are declared not differentiable. An index outside 0..n-1 throws
/// std::out_of_range naming the row, the label and n.
#pragma once

#include "tapeless/core/leaf.hpp"
#include "tapeless/core/node.hpp"
#include "tapeless/core/tensor.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace tapeless {

/// What the targets of a classification loss are: class indices (batch x 1, integer) or rows of
/// probabilities, one-hot or not (batch x classes).
enum class Targets { index, one_hot };

/// The op of `softmax_cross_entropy`, and the loss a `Trainer` minimises with it: `T` says what
/// the targets are (`Targets::index` by default), `Label` the integer type of class indices
/// (`int` by default; `std::int64_t` as PyTorch's, `std::uint8_t` as IDX files store them).
template <Targets T = Targets::index, class Label = int>
struct SoftmaxCrossEntropy {
  static_assert(std::is_integral_v<Label> && !std::is_same_v<Label, bool>,
                "tapeless::SoftmaxCrossEntropy<Targets, Label>: class indices are an integer type");
  /// The targets a Trainer keeps for a batch of `Batch` rows and `Classes` outputs.
  template <class S, int Batch, int Classes>
  using target_type = std::conditional_t<T == Targets::index, Tensor<Label, Batch, 1>, Tensor<S, Batch, Classes>>;
  /// The loss of a network's output `logits` against targets `t` (data: no gradient flows into them).
  template <class Z, class Tg>
  static auto apply(Z&& logits, const Tg& t) {
    return make_node(SoftmaxCrossEntropy{}, std::forward<Z>(logits), input(t));
  }

  static constexpr std::string_view name = "softmax_cross_entropy";
  static constexpr Dims shape(Dims, Dims) { return {1, 1}; }
  static constexpr bool valid(Dims z, Dims t) {
    return dims_fit(z.rows, t.rows) && (T == Targets::one_hot ? dims_fit(z.cols, t.cols) : t.cols == 1);
  }
  static constexpr bool differentiable(std::size_t k) { return k == 0; }

  /// What the forward pass keeps for the adjoint: p, and two numbers per row.
  template <class S, Dims Z>
  struct Work {
    storage_t<S, Z.rows, Z.cols> p;  ///< softmax(z), each row scaled by its target mass
    storage_t<S, Z.rows, 2> rows;    ///< per row: max, then log-sum-exp; 1 / sum, then mass / sum
  };
  template <class S, Dims Z, Dims>
  using workspace = Work<S, Z>;
  template <class W>
  static void reserve(W& w, Dims z, Dims) {
    w.p.resize(z.rows, z.cols);
    w.rows.resize(z.rows, 2);
  }

  // Column by column: rows are samples and storage is column-major, so every pass below runs down
  // contiguous columns in SIMD packets (exp and log included), never along a strided row.
  template <class Y, class W, class Z, class L>
  void forward(Y& y, W& w, const Z& z, const L& t) const {
    using S = typename Z::Scalar;
    auto lse = w.rows.col(0);
    auto scale = w.rows.col(1);
    lse = z.rowwise().maxCoeff();
    w.p = (z.colwise() - lse).array().exp().matrix();
    scale = w.p.rowwise().sum();
    lse.array() += scale.array().log();
    scale = scale.cwiseInverse();
    S total = 0;
    if constexpr (T == Targets::one_hot) {
      total = (t.array() * (z.array().colwise() - lse.array())).sum();
      scale.array() *= t.rowwise().sum().array();
    } else {
      for (Index i = 0; i < z.rows(); ++i) {
        const auto c = t(i, 0);  // any integer type, compared as it is (never truncated first)
        if (std::cmp_less(c, 0) || std::cmp_greater_equal(c, z.cols()))
          throw std::out_of_range("tapeless: softmax_cross_entropy: label " + std::to_string(c) + " in row " +
                                  std::to_string(i) + " is outside 0.." + std::to_string(z.cols() - 1));
        total += z(i, static_cast<Index>(c)) - lse(i);
      }
    }
    w.p.array().colwise() *= scale.array();
    y(0, 0) = -total / static_cast<S>(z.rows());
  }

  template <class D, class G, class Y, class W, class Z, class L>
  void backward(D& d, const G& g, const Y&, const W& w, const Z& z, const L& t) const {
    if (!d[arg<0>].active) return;
    using S = typename Z::Scalar;
    const S scale = g(0, 0) / static_cast<S>(z.rows());
    if constexpr (T == Targets::one_hot) {
      d[arg<0>] += (w.p - t) * scale;
    } else {
      d[arg<0>] += w.p * scale;  // then -scale at each row's label: the one-hot, never built
      for (Index i = 0; i < z.rows(); ++i) d[arg<0>].add_coeff(i, static_cast<Index>(t(i, 0)), -scale);
    }
  }
};

/// Mean softmax cross-entropy of logits `z` (m x n) against one-hot rows (m x n) or class
/// indices (m x 1) of any integer type.
template <Operand Z, Operand L>
requires ExprLike<Z> && ExprLike<L>
auto softmax_cross_entropy(Z&& z, L&& t) {
  using T = operand_scalar_t<L>;
  if constexpr (std::is_integral_v<T>)
    return make_node(SoftmaxCrossEntropy<Targets::index, T>{}, std::forward<Z>(z), std::forward<L>(t));
  else
    return make_node(SoftmaxCrossEntropy<Targets::one_hot>{}, std::forward<Z>(z), std::forward<L>(t));
}
}  // namespace tapeless
