/// @file
/// @brief The layer protocol, and the seeded initialisation every layer shares.
///
/// A layer is a stateless type describing a step of a network; its parameters live in the
/// network's contiguous buffers. Members:
/// - `static constexpr int in, out`: widths, or `any_width` for a layer that keeps its input's;
/// - `template <class S> struct params`: views (`TensorRef`) into the buffers, built from two
///   cursors that it advances; `refs()` gives them as a `std::tuple` of references;
/// - `static constexpr Index parameter_size`: how many scalars it owns;
/// - `template <class X, class P> static auto apply(X&& x, const P& p)`: its forward expression;
/// - `template <class P, class F> static void visit(P& p, const std::string& prefix, F&& f)`:
///   calls f(name, tensor_ref, role) for each parameter, PyTorch-style names ("0.weight"), and
///   the parameter's `ParameterRole`, which decides its layout in files;
/// - `template <class P> static void init(P& p, Init how, Rng& rng)`;
/// - `static std::string describe()` (optional): the layer as text, PyTorch-style, as model files
///   record a network's architecture ("Linear(784, 256)"); without it, the compiler's name of
///   the type is used (`describe_layer<L>()`), which differs between compilers.
/// Backward is never written per layer: it comes from the engine.
///
/// A function is a layer too, with no parameters and the width of its input: an elementwise
/// function (`ReLU`, `Sigmoid`, `Tanh`, `Exp`, `Log`, `Square`) or a one-operand op (`Softmax`,
/// `LogSoftmax`), applied to the whole input. `layer_t<L>` is what the network code reads of a
/// layer `L`: L itself, or `FunctionLayer<L>` for a function. One type, one name: `ReLU` is
/// relu's function and the ReLU layer.
#pragma once

#include "tapeless/core/node.hpp"
#include "tapeless/core/tensor.hpp"
#include "tapeless/ops/elementwise.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

namespace tapeless {

/// The width of a layer that keeps the width of its input (activations).
inline constexpr int any_width = -1;

/// What a parameter is to its layer, declared by the layer (never guessed from its shape). Model
/// files follow it:
/// - `weight`: an In x Out matrix the input multiplies from the right (y = x W); PyTorch's
///   `nn.Linear` stores it transposed, [Out, In];
/// - `bias`: a 1 x N row added to every row of the batch; stored as a vector, [N].
enum class ParameterRole { weight, bias };

/// Weight initialisation schemes of the reference notes. A network's default follows its
/// activations (`default_init<Layers>()`): Xavier when they are Sigmoid or Tanh only, He
/// otherwise (ReLU and its relatives, or no activation a preference is known for).
enum class Init {
  he,      ///< normal, standard deviation sqrt(2 / in): for ReLU nets
  xavier,  ///< uniform in +-sqrt(6 / (in + out)): for sigmoid and tanh nets
};

namespace detail {
/// std::mt19937_64, written out: the standard specifies its parameters, seeding and output
/// exactly (tests/layers/layer.cpp compares every bit with std::mt19937_64), and `<random>`
/// would cost every translation unit that includes a layer about 0.1 s of compile time.
class mersenne_twister_64 {
 public:
  explicit mersenne_twister_64(std::uint64_t seed) {
    x_[0] = seed;
    for (std::size_t i = 1; i < n; ++i) x_[i] = 6364136223846793005ULL * (x_[i - 1] ^ (x_[i - 1] >> 62)) + i;
  }
  std::uint64_t operator()() {
    if (next_ == n) twist();
    std::uint64_t y = x_[next_++];
    y ^= (y >> 29) & 0x5555555555555555ULL;
    y ^= (y << 17) & 0x71d67fffeda60000ULL;
    y ^= (y << 37) & 0xfff7eee000000000ULL;
    return y ^ (y >> 43);
  }

 private:
  static constexpr std::size_t n = 312, m = 156;
  void twist() {
    constexpr std::uint64_t upper = ~std::uint64_t{0} << 31, lower = ~upper;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t y = (x_[i] & upper) | (x_[(i + 1) % n] & lower);
      x_[i] = x_[(i + m) % n] ^ (y >> 1) ^ ((y & 1) ? 0xb5026f5aa96619e9ULL : 0);
    }
    next_ = 0;
  }
  std::array<std::uint64_t, n> x_{};
  std::size_t next_ = n;
};
}  // namespace detail

/// A seeded generator whose numbers are the same on every machine and standard library: a
/// 64-bit Mersenne twister (std::mt19937_64, detail::mersenne_twister_64) with our own
/// conversions to uniform and normal values (the standard distributions are
/// implementation-defined).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  /// Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Standard normal, by Box-Muller.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = 0;
    while (u1 == 0) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2 * std::numbers::pi * u2);
    has_spare_ = true;
    return r * std::cos(2 * std::numbers::pi * u2);
  }
  /// Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n) { return static_cast<std::uint64_t>(uniform() * static_cast<double>(n)); }

 private:
  detail::mersenne_twister_64 engine_;
  double spare_ = 0;
  bool has_spare_ = false;
};

namespace detail {
/// A list of layer types.
template <class... L>
struct layer_list {};

/// A TensorRef over the next R x C scalars of the two buffers; advances both cursors.
template <class S, int R, int C>
struct next_ref {
  static TensorRef<S, R, C> take(S*& value, S*& gradient) {
    S* v = value;
    S* g = gradient;
    value += Index{R} * C;
    gradient += Index{R} * C;
    return TensorRef<S, R, C>(v, g);
  }
};
}  // namespace detail

namespace detail {
/// The compiler's name of T ("tapeless::ReLU" on g++ and clang alike for plain class names;
/// templates are spelt differently): the last resort of `describe_layer`.
template <class T>
std::string type_name() {
  const std::string_view f = __PRETTY_FUNCTION__;  // "... type_name() [with T = X; ...]" or "[T = X]"
  const auto begin = f.find("T = ") + 4;
  const auto end = f.find_first_of(";]", begin);
  return std::string(f.substr(begin, end - begin));
}
}  // namespace detail

/// A layer (or a function used as one) as text: its `describe()`, else a function's `name`
/// (ReLU), else the compiler's name of its type.
template <class L>
std::string describe_layer() {
  if constexpr (requires { L::describe(); })
    return L::describe();
  else if constexpr (requires { std::string_view(L::name); })
    return std::string(L::name);
  else
    return detail::type_name<L>();
}

/// A layer without parameters: empty params.
struct NoParams {
  template <class S>
  struct params {
    using scalar = S;
    params(S*&, S*&) {}
    std::tuple<> refs() { return {}; }
  };
  static constexpr Index parameter_size = 0;
  template <class P, class F>
  static void visit(P&, const std::string&, F&&) {}
  template <class P>
  static void init(P&, Init, Rng&) {}
};

/// A function (elementwise, or a one-operand op) as a parameter-free layer of any width.
template <class F>
struct FunctionLayer : NoParams {
  using function_type = F;
  static constexpr int in = any_width;
  static constexpr int out = any_width;
  static std::string describe() { return describe_layer<F>(); }
  template <class X, class P>
  static auto apply(X&& x, const P&) {
    if constexpr (requires { F::shape(Dims{}); })
      return make_node(F{}, std::forward<X>(x));  // a one-operand op: Softmax
    else
      return elementwise(F{}, std::forward<X>(x));  // an elementwise function: ReLU
  }
};

namespace detail {
template <class L>
struct as_layer {
  using type = FunctionLayer<L>;
};
template <class L>
requires requires { L::in; }
struct as_layer<L> {
  using type = L;
};
}  // namespace detail

/// What the network code reads of a layer L: L itself, or `FunctionLayer<L>` for a function.
template <class L>
using layer_t = typename detail::as_layer<L>::type;

namespace detail {
/// Whether layer L (a `layer_t`) holds a weight (in x out) and a bias (1 x out), in that order,
/// applied as `affine(x, weight, bias)`: at one row their gradients are x^T g and g, which a
/// Trainer's step forms in the optimizer's update (network/trainer.hpp). Linear's is true.
template <class L>
inline constexpr bool outer_gradient_layer = false;

/// How many of a layer's functions prefer Xavier (`F::xavier_init` true: Sigmoid, Tanh) and He
/// (false: ReLU, LeakyReLU, ELU, GELU, SiLU); functions without the member do not count.
struct init_votes {
  int xavier = 0, he = 0;
};
template <class L>
constexpr init_votes votes_of();
template <class... L>
constexpr init_votes votes_of_list(layer_list<L...>) {
  init_votes v;
  ((v.xavier += votes_of<layer_t<L>>().xavier, v.he += votes_of<layer_t<L>>().he), ...);
  return v;
}
template <class L>
constexpr init_votes votes_of() {
  if constexpr (requires { typename L::layer_types; }) {  // Sequential
    return votes_of_list(typename L::layer_types{});
  } else if constexpr (requires { typename L::block_type; }) {  // Residual
    return votes_of<layer_t<typename L::block_type>>();
  } else if constexpr (requires { L::function_type::xavier_init; }) {  // a function as a layer
    return L::function_type::xavier_init ? init_votes{1, 0} : init_votes{0, 1};
  } else {
    return {};
  }
}
}  // namespace detail

/// The default initialisation of a network of `Layers`: Xavier if its activations are Sigmoid or
/// Tanh only, He otherwise (docs/tutorial.md; the reference notes' rule).
template <class Layers>
constexpr Init default_init() {
  constexpr detail::init_votes v = detail::votes_of<layer_t<Layers>>();
  return v.xavier > 0 && v.he == 0 ? Init::xavier : Init::he;
}

}  // namespace tapeless
