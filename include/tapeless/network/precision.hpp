/// @file
/// @brief The precision a Trainer keeps activations in: `FullPrecision` (the network's scalar) or
/// `Mixed<H>` (bfloat16 or binary16 storage over float weights), and dynamic loss scaling.
///
///     Network<Mlp> net(1);                                   // float master weights
///     Trainer<Network<Mlp>, SoftmaxCrossEntropy<>, 64, Mixed<Eigen::bfloat16>> trainer(net);
///
/// Reference note 002 ("Mixed Precision"): half-precision activations, float weights, and, for
/// float16, a loss scale. Under `Mixed<H>` a Trainer:
/// - keeps the network's parameters, their gradients and the optimizer in float;
/// - computes every op in float, products accumulated in float (the same kernels);
/// - rounds every value a layer keeps for backward to H when the layer's forward ends, so the
///   next layer reads, and backward uses, the H value (round to nearest even);
/// - rounds the adjoint passed from a layer to the one before it to H, and the loss's adjoint of
///   the network's output (times the loss scale) before backward starts;
/// - stores those values as H where that saves memory: the layers of one type that occurs more
///   than once (the hidden blocks of a deep net) share one float program and keep only their H
///   values, restored into it for backward (network/chain.hpp); a layer of a type that occurs
///   once keeps its own float program, holding H values. `Trainer::activation_bytes()` counts
///   either.
/// The loss (softmax, log, the mean) runs in float, as PyTorch's autocast does.
///
/// Dynamic loss scaling (binary16 only; bfloat16 has float's exponent range and needs none): the
/// output's adjoint is multiplied by `LossScale::scale` before it is rounded, so that small
/// adjoints do not flush to zero in binary16; the parameter gradients are divided by it after
/// backward (exact: the scale is a power of two). A step whose loss or gradients are not finite
/// (an adjoint overflowed binary16) is skipped by the Trainer's non-finite guard, weights and
/// optimizer state untouched, and the scale halves; after `growth_interval` finite steps in a
/// row it doubles (PyTorch's GradScaler, same defaults).
#pragma once

#include "tapeless/detail/float16.hpp"

#include <Eigen/Core>

#include <cfloat>
#include <cstdint>
#include <type_traits>

namespace tapeless {

/// Activations in the network's own scalar type: the default.
struct FullPrecision {};

/// Activations stored in H (`Eigen::bfloat16` or `Eigen::half`) over float weights (the file
/// comment).
template <class H>
struct Mixed {
  static_assert(std::is_same_v<H, Eigen::bfloat16> || std::is_same_v<H, Eigen::half>,
                "tapeless::Mixed<H>: H is Eigen::bfloat16 or Eigen::half");
  using storage_type = H;
  /// Whether a Trainer scales the loss dynamically (binary16).
  static constexpr bool scaled = std::is_same_v<H, Eigen::half>;
};

/// The dynamic loss scale of a `Mixed<Eigen::half>` Trainer (`Trainer::loss_scale()`); its
/// fields may be set before training (PyTorch's GradScaler defaults).
struct LossScale {
  double scale = 65536.0;       ///< the factor the loss's adjoint is multiplied by (a power of two)
  double growth_factor = 2.0;   ///< applied after `growth_interval` finite steps in a row
  double backoff_factor = 0.5;  ///< applied after a step that was not finite
  int growth_interval = 2000;
  int finite_steps = 0;   ///< finite steps since the scale last changed
  int skipped_steps = 0;  ///< steps skipped for a non-finite loss or gradient, in all

  /// After a step: count a finite one (and grow the scale after `growth_interval` of them), or
  /// back off. The scale stays at least FLT_MIN, so that its inverse is finite.
  void update(bool finite) noexcept {
    if (finite) {
      if (++finite_steps >= growth_interval) {
        finite_steps = 0;
        if (scale * growth_factor <= FLT_MAX) scale *= growth_factor;
      }
    } else {
      ++skipped_steps;
      finite_steps = 0;
      scale = scale * backoff_factor < FLT_MIN ? FLT_MIN : scale * backoff_factor;
    }
  }
};

namespace detail {
template <class Precision>
struct precision_traits {
  static constexpr bool mixed = false;
  static constexpr bool scaled = false;
};
template <class H>
struct precision_traits<Mixed<H>> {
  static constexpr bool mixed = true;
  static constexpr bool scaled = Mixed<H>::scaled;
  static constexpr Half format = std::is_same_v<H, Eigen::bfloat16> ? Half::bfloat16 : Half::binary16;
  using bits = std::uint16_t;  // a stored value's bit pattern
};

/// Rounds a float matrix (or map) to the precision's storage format in place; nothing under
/// FullPrecision.
template <class Precision, class M>
void round_matrix(M& m) noexcept {
  if constexpr (precision_traits<Precision>::mixed)
    round_to<precision_traits<Precision>::format>(m.data(), static_cast<std::size_t>(m.size()));
  else
    (void)m;
}
}  // namespace detail

}  // namespace tapeless
