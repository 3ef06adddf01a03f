/// @file
/// @brief `tap(x)`: x unchanged, with its value and its adjoint made visible: the reference
/// notes' hooks (002, "Hook으로 중간 gradient 확인"), decided at compile time.
///
/// Forward: y = x.   Adjoint: dx += g, then the tap's hook, if one is set, is called with y and g
/// (g = dL/dy = dL/dx), while g is still in cache.
///
/// The node's workspace is a `TapView`: where the tap's value and adjoint are, which a step
/// leaves in place to be read (`Trainer::tap`), summarised (`TapView::summary`: mean, std, share
/// of zeros, gradient norm with the notes' vanishing and exploding flags) or passed to a hook.
/// A tap costs one copy of its value on the way forward and one of its adjoint on the way back;
/// a network without taps has no tap node, so its program is the one it always was.
///
/// A network marks a layer with `Tap<Layer>` (layers/tap.hpp), which names it; this op is what
/// that layer adds to the layer's expression.
#pragma once

#include "tapeless/core/node.hpp"

#include <Eigen/Core>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace tapeless {

/// What `TapView::summary` measures of a tap after a step.
struct TapSummary {
  Index count = 0;            ///< coefficients: batch rows x width
  double mean = 0;            ///< of the value
  double stddev = 0;          ///< of the value, with Bessel's correction (n - 1), as PyTorch's std(); NaN for n < 2
  double zeros = 0;           ///< the share of values that are exactly 0 (dead ReLU units)
  bool has_gradient = false;  ///< whether the last backward pass reached the tap (the fields below)
  double gradient_mean = std::numeric_limits<double>::quiet_NaN();
  double gradient_stddev = std::numeric_limits<double>::quiet_NaN();
  double gradient_norm = std::numeric_limits<double>::quiet_NaN();  ///< Frobenius norm of dL/dy
  bool vanishing = false;  ///< gradient_norm below the threshold (the notes' 1e-7)
  bool exploding = false;  ///< gradient_norm above the threshold (the notes' 100), or not finite
};

/// A tap as a step left it: its name, its value y (batch x width) and its adjoint dL/dy.
///
/// The views point into the program's storage: valid until the next forward pass (which replaces
/// the value and forgets the adjoint), until the batch size changes, or until a program built by
/// hand is moved (`find_taps` finds them again). Reading them allocates
/// nothing; `summary()` reads them once.
template <class S>
class TapView {
 public:
  using scalar_type = S;
  using matrix = Eigen::Map<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>>;

  /// The tap's name: `Tap<L, "name">`'s, or its layer's path in the network ("1", "2.block.1").
  std::string_view name() const noexcept { return name_; }
  /// The value of the last forward pass (0 x 0 before the first).
  matrix value() const noexcept { return matrix(value_, value_ ? rows_ : 0, value_ ? cols_ : 0); }
  /// Whether backward reaches this tap at all: false when no parameter lies below it (a tap on the
  /// input side of the first parametrised layer), so no adjoint is ever computed for it.
  bool reachable() const noexcept { return reachable_; }
  /// Whether a backward pass has run since the last forward pass, so that gradient() is valid.
  bool has_gradient() const noexcept { return adjoint_ != nullptr; }
  /// dL/dy of the last backward pass. Throws std::logic_error when there is none (the message
  /// says why: unreachable, or no backward since the last forward).
  matrix gradient() const {
    if (!adjoint_)
      throw std::logic_error("tapeless::TapView::gradient: tap '" + std::string(name_) + "' has no gradient: " +
                             (reachable_ ? "no backward pass has run since the last forward pass"
                                         : "backward never reaches it (no parameter lies below it); read its value"));
    return matrix(adjoint_, rows_, cols_);
  }

  /// Mean, std and share of zeros of the value; mean, std and norm of the gradient (if any), with
  /// the notes' flags: vanishing below `vanishing`, exploding above `exploding` or not finite.
  TapSummary summary(double vanishing = 1e-7, double exploding = 100) const {
    TapSummary s;
    const matrix y = value();
    s.count = y.size();
    const auto stats = [](const matrix& m, double& mean, double& stddev) {
      const auto n = static_cast<double>(m.size());
      mean = m.template cast<double>().sum() / n;
      stddev = n < 2 ? std::numeric_limits<double>::quiet_NaN()
                     : std::sqrt((m.template cast<double>().array() - mean).square().sum() / (n - 1));
    };
    if (s.count > 0) {
      stats(y, s.mean, s.stddev);
      s.zeros = static_cast<double>((y.array() == S(0)).count()) / static_cast<double>(s.count);
    }
    if (has_gradient()) {
      const matrix g = gradient();
      s.has_gradient = true;
      stats(g, s.gradient_mean, s.gradient_stddev);
      s.gradient_norm = g.template cast<double>().norm();
      s.vanishing = s.gradient_norm < vanishing;
      s.exploding = !(s.gradient_norm <= exploding);
    }
    return s;
  }

  /// What the tap calls during backward, set by its owner (`Trainer::on_tap`): `call(context,
  /// *this)`, or nothing when `call` is null.
  struct Hook {
    void (*call)(const void* context, const TapView& tap) = nullptr;
    const void* context = nullptr;
  };

  // The tap op's side and its owner's (the Trainer): set the name, whether backward reaches the
  // tap, and the hook; record the storage of each pass.
  void bind(std::string_view name, bool reachable) noexcept {
    name_ = name;
    reachable_ = reachable;
  }
  void set_hook(Hook hook) noexcept { hook_ = hook; }
  /// After its program moved (`grad()` returns one): the same passes' results, at their new
  /// places. The adjoint is the node's own slot's in a program built by hand (its root is seeded
  /// with ones); a chained network's programs never move.
  template <class Y, class G>
  void relocate(const Y& y, const G& g) noexcept {
    if (value_) value_ = y.data();
    if (adjoint_) adjoint_ = g.data();
  }
  template <class Y>
  void forward_pass(const Y& y) noexcept {
    value_ = y.data();
    rows_ = y.rows();
    cols_ = y.cols();
    adjoint_ = nullptr;
  }
  template <class G>
  void backward_pass(const G& g) {  // a hook may throw: the step stops before any update
    adjoint_ = g.data();
    if (hook_.call) hook_.call(hook_.context, *this);
  }

 private:
  std::string_view name_;
  const S* value_ = nullptr;
  const S* adjoint_ = nullptr;
  Index rows_ = 0, cols_ = 0;
  bool reachable_ = false;
  Hook hook_;
};

namespace ops {
/// The op of `tap` (the file comment).
struct Tap {
  static constexpr std::string_view name = "tap";
  static constexpr Dims shape(Dims x) { return x; }
  template <class S, Dims>
  using workspace = TapView<S>;
  template <class Y, class S, class X>
  void forward(Y& y, TapView<S>& view, const X& x) const {
    y = x;
    view.forward_pass(y);
  }
  template <class D, class G, class Y, class S, class X>
  void backward(D& d, const G& g, const Y&, TapView<S>& view, const X&) const {
    d[arg<0>] += g;
    view.backward_pass(g);
  }
  friend bool operator==(Tap, Tap) = default;
};
}  // namespace ops

/// x unchanged, its value and adjoint visible (the file comment). In a network, wrap a layer in
/// `Tap<>` instead (layers/tap.hpp): that names the tap and lets a Trainer find it.
template <Operand X>
requires ExprLike<X>
auto tap(X&& x) { return make_node(ops::Tap{}, std::forward<X>(x)); }

/// The taps of a program built by hand (`grad`, `Program`), in the order of their nodes in the
/// expression (post-order), unnamed: pointers into the program, valid while it lives.
///
///     auto g = tapeless::grad(sum(square(tapeless::tap(x * w))), w);
///     const auto* t = tapeless::find_taps(g)[0];  // t->value(), t->gradient(): 2 x w
template <class P>
std::vector<TapView<typename P::scalar_type>*> find_taps(P& program) {
  std::vector<TapView<typename P::scalar_type>*> out;
  program.for_each_workspace([&](auto& slot, auto reachable) {
    if constexpr (std::is_same_v<decltype(slot.work), TapView<typename P::scalar_type>>) {
      slot.work.bind({}, reachable());
      if constexpr (reachable())
        slot.work.relocate(slot.value, slot.adj);
      else
        slot.work.relocate(slot.value, slot.value);
      out.push_back(&slot.work);
    }
  });
  return out;
}

}  // namespace tapeless
