/// @file
/// @brief The zero-overhead reference: an MLP's backpropagation written by hand in Eigen, the
/// way the reference notes derive it (z = x W + b, a = f(z); dW = x^T dz, db = colsum(dz),
/// dx = dz W^T), with the same layout as tapeless (W is In x Out, rows are samples).
///
/// Every matrix is allocated once, at construction: fixed-size Eigen matrices when the batch
/// and every width are at most 32, dynamic ones otherwise. Products are `noalias()`. Nothing
/// here is generic beyond what a careful engineer would write for one network: `Dense` is one
/// layer's storage and its three formulas; `HandMlp` chains them explicitly for two or three
/// layers. tests/bench/baselines.cpp checks its gradients against tapeless's.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <type_traits>
#include <vector>

namespace bench {

inline constexpr int runtime_batch = Eigen::Dynamic;

/// Fixed-size storage only where Eigen keeps it on the stack comfortably (every dimension <= 32).
template <int Batch, int... Widths>
inline constexpr bool fixed_size_v = Batch != runtime_batch&& Batch <= 32 && ((Widths <= 32) && ...);

template <class S, bool Fixed, int R, int C>
using matrix_t = std::conditional_t<
    Fixed, Eigen::Matrix<S, R, C, (R == 1 && C != 1) ? Eigen::RowMajor : Eigen::ColMajor>,
    Eigen::Matrix<S, R == 1 ? 1 : Eigen::Dynamic, Eigen::Dynamic, R == 1 ? Eigen::RowMajor : Eigen::ColMajor>>;

/// Activations: a = f(z) and dz = da .* f'(z, a).
struct Identity {
  template <class Z, class A>
  static void apply(const Z& z, A& a) {
    a = z;
  }
  template <class DA, class Z, class A, class DZ>
  static void derivative(const DA& da, const Z&, const A&, DZ& dz) {
    dz = da;
  }
};
struct Relu {
  template <class Z, class A>
  static void apply(const Z& z, A& a) {
    a = z.cwiseMax(typename Z::Scalar(0));
  }
  template <class DA, class Z, class A, class DZ>
  static void derivative(const DA& da, const Z& z, const A&, DZ& dz) {
    using S = typename Z::Scalar;
    dz = (z.array() > S(0)).select(da, S(0));
  }
};
struct Sigmoid {
  template <class Z, class A>
  static void apply(const Z& z, A& a) {
    using S = typename Z::Scalar;
    a = (S(1) + (-z.array()).exp()).inverse().matrix();
  }
  template <class DA, class Z, class A, class DZ>
  static void derivative(const DA& da, const Z&, const A& a, DZ& dz) {
    using S = typename Z::Scalar;
    dz = (da.array() * a.array() * (S(1) - a.array())).matrix();
  }
};

struct Tanh {
  template <class Z, class A>
  static void apply(const Z& z, A& a) {
    a = z.array().tanh().matrix();
  }
  template <class DA, class Z, class A, class DZ>
  static void derivative(const DA& da, const Z&, const A& a, DZ& dz) {
    using S = typename Z::Scalar;
    dz = (da.array() * (S(1) - a.array().square())).matrix();
  }
};

/// One layer: its parameters, their gradients, and the cached z and a of the last forward pass.
template <class S, bool Fixed, int Batch, int In, int Out, class Act>
struct Dense {
  matrix_t<S, Fixed, In, Out> w, dw;
  matrix_t<S, Fixed, 1, Out> b, db;
  matrix_t<S, Fixed, Batch, Out> z, a, da, dz;

  explicit Dense(Eigen::Index batch)
      : w(In, Out), dw(In, Out), b(1, Out), db(1, Out), z(batch, Out), a(batch, Out), da(batch, Out), dz(batch, Out) {
    w.setZero();
    b.setZero();
  }
  /// z = x W + b, a = f(z).
  template <class X>
  void forward(const X& x) {
    z.noalias() = x * w;
    z.rowwise() += b;
    Act::apply(z, a);
  }
  /// dz = da .* f'(z), then dW = x^T dz and db = column sums of dz.
  template <class X>
  void backward(const X& x) {
    Act::derivative(da, z, a, dz);
    dw.noalias() = x.transpose() * dz;
    db = dz.colwise().sum();
  }
  /// The previous layer's da = dz W^T.
  template <class DX>
  void input_gradient(DX& dx) const {
    dx.noalias() = dz * w.transpose();
  }
  void sgd(S lr) {
    w -= lr * dw;
    b -= lr * db;
  }
};

/// Softmax + cross-entropy averaged over the batch, on class indices; dz = (p - onehot) / m.
template <class S, bool Fixed, int Batch, int Classes>
struct SoftmaxCe {
  using targets_type = std::vector<int>;
  static targets_type make_targets(Eigen::Index batch) { return targets_type(static_cast<std::size_t>(batch)); }
  matrix_t<S, Fixed, Batch, Classes> p;
  matrix_t<S, Fixed, Batch, 1> row_max, row_sum;

  explicit SoftmaxCe(Eigen::Index batch) : p(batch, Classes), row_max(batch, 1), row_sum(batch, 1) {}

  template <class Z>
  S forward(const Z& z, const std::vector<int>& labels) {
    row_max = z.rowwise().maxCoeff();
    p = (z - row_max.replicate(1, Classes)).array().exp().matrix();
    row_sum = p.rowwise().sum();
    S loss = 0;
    for (Eigen::Index i = 0; i < z.rows(); ++i) loss += std::log(row_sum(i)) + row_max(i) - z(i, labels[i]);
    return loss / S(z.rows());
  }
  template <class Z, class DZ>
  void backward(const Z&, const std::vector<int>& labels, DZ& dz) const {
    const S m = S(p.rows());
    dz = (p.array() / (m * row_sum.replicate(1, Classes).array())).matrix();
    for (Eigen::Index i = 0; i < p.rows(); ++i) dz(i, labels[i]) -= S(1) / m;
  }
};

/// Mean squared error over every coefficient; da = 2 (a - t) / n.
template <class S, bool Fixed, int Batch, int Out>
struct Mse {
  using targets_type = matrix_t<S, Fixed, Batch, Out>;
  static targets_type make_targets(Eigen::Index batch) { return targets_type::Zero(batch, Out); }
  explicit Mse(Eigen::Index) {}

  template <class A>
  S forward(const A& a, const targets_type& t) const {
    return (a - t).squaredNorm() / S(a.size());
  }
  template <class A, class DA>
  void backward(const A& a, const targets_type& t, DA& da) const {
    da = (a - t) * (S(2) / S(a.size()));
  }
};

/// The widths of a network: In, hidden..., Out.
template <int... W>
struct Widths {};

template <class S, class Act, int Batch, class W, template <class, bool, int, int> class Loss = SoftmaxCe>
class HandMlp;

/// Two layers: In -> H (Act) -> Out (logits), and the loss (softmax-CE on labels, or MSE).
template <class S, class Act, int Batch, int In, int H, int Out, template <class, bool, int, int> class Loss>
class HandMlp<S, Act, Batch, Widths<In, H, Out>, Loss> {
 public:
  using scalar_type = S;
  static constexpr bool fixed = fixed_size_v<Batch, In, H, Out>;
  using input_type = matrix_t<S, fixed, Batch, In>;

  explicit HandMlp(Eigen::Index batch = Batch == runtime_batch ? 1 : Batch)
      : x(batch, In), labels(Loss<S, fixed, Batch, Out>::make_targets(batch)), l1(batch), l2(batch), ce(batch) {}

  input_type x;
  typename Loss<S, fixed, Batch, Out>::targets_type labels;  ///< class indices, or targets for MSE
  Dense<S, fixed, Batch, In, H, Act> l1;
  Dense<S, fixed, Batch, H, Out, Identity> l2;
  Loss<S, fixed, Batch, Out> ce;

  const auto& infer() {
    l1.forward(x);
    l2.forward(l1.a);
    return l2.a;
  }
  S loss() { return ce.forward(infer(), labels); }
  /// Forward, loss, backward: every gradient, and the loss.
  S compute() {
    const S value = loss();
    ce.backward(l2.a, labels, l2.da);
    l2.backward(l1.a);
    l2.input_gradient(l1.da);
    l1.backward(x);
    return value;
  }
  S step(S lr) {
    const S value = compute();
    l1.sgd(lr);
    l2.sgd(lr);
    return value;
  }
  template <class F>
  void for_each_parameter(F&& f) {
    f(l1.w, l1.dw), f(l1.b, l1.db), f(l2.w, l2.dw), f(l2.b, l2.db);
  }
};

/// Three layers: In -> H1 (Act) -> H2 (Act) -> Out (logits), and the loss.
template <class S, class Act, int Batch, int In, int H1, int H2, int Out, template <class, bool, int, int> class Loss>
class HandMlp<S, Act, Batch, Widths<In, H1, H2, Out>, Loss> {
 public:
  using scalar_type = S;
  static constexpr bool fixed = fixed_size_v<Batch, In, H1, H2, Out>;
  using input_type = matrix_t<S, fixed, Batch, In>;

  explicit HandMlp(Eigen::Index batch = Batch == runtime_batch ? 1 : Batch)
      : x(batch, In),
        labels(Loss<S, fixed, Batch, Out>::make_targets(batch)),
        l1(batch),
        l2(batch),
        l3(batch),
        ce(batch) {}

  input_type x;
  typename Loss<S, fixed, Batch, Out>::targets_type labels;  ///< class indices, or targets for MSE
  Dense<S, fixed, Batch, In, H1, Act> l1;
  Dense<S, fixed, Batch, H1, H2, Act> l2;
  Dense<S, fixed, Batch, H2, Out, Identity> l3;
  Loss<S, fixed, Batch, Out> ce;

  const auto& infer() {
    l1.forward(x);
    l2.forward(l1.a);
    l3.forward(l2.a);
    return l3.a;
  }
  S loss() { return ce.forward(infer(), labels); }
  S compute() {
    const S value = loss();
    ce.backward(l3.a, labels, l3.da);
    l3.backward(l2.a);
    l3.input_gradient(l2.da);
    l2.backward(l1.a);
    l2.input_gradient(l1.da);
    l1.backward(x);
    return value;
  }
  S step(S lr) {
    const S value = compute();
    l1.sgd(lr);
    l2.sgd(lr);
    l3.sgd(lr);
    return value;
  }
  template <class F>
  void for_each_parameter(F&& f) {
    f(l1.w, l1.dw), f(l1.b, l1.db), f(l2.w, l2.dw), f(l2.b, l2.db), f(l3.w, l3.dw), f(l3.b, l3.db);
  }
};

/// Sets every parameter from `p`, laid out as tapeless's Network::values(): parameter after
/// parameter, each column-major (W In x Out, then b).
template <class Mlp>
void load_parameters(Mlp& mlp, const typename Mlp::scalar_type* p) {
  mlp.for_each_parameter([&](auto& w, auto&) {
    for (Eigen::Index j = 0; j < w.cols(); ++j)
      for (Eigen::Index i = 0; i < w.rows(); ++i) w(i, j) = *p++;
  });
}

/// Every gradient of the last compute() or numerical_step(), parameter after parameter, each
/// column-major: the layout of tapeless's Network::gradients().
template <class Mlp>
std::vector<typename Mlp::scalar_type> flat_gradients(Mlp& mlp) {
  std::vector<typename Mlp::scalar_type> g;
  mlp.for_each_parameter([&](auto&, auto& dw) {
    for (Eigen::Index j = 0; j < dw.cols(); ++j)
      for (Eigen::Index i = 0; i < dw.rows(); ++i) g.push_back(dw(i, j));
  });
  return g;
}

/// The reference notes' numerical gradient: central differences over every parameter, two
/// forward passes each, written into the gradient matrices. Then the same SGD update.
template <class Mlp, class S>
S numerical_step(Mlp& mlp, S eps, S lr) {
  mlp.for_each_parameter([&](auto& w, auto& dw) {
    for (Eigen::Index j = 0; j < w.cols(); ++j)
      for (Eigen::Index i = 0; i < w.rows(); ++i) {
        const S original = w(i, j);
        w(i, j) = original + eps;
        const S plus = mlp.loss();
        w(i, j) = original - eps;
        const S minus = mlp.loss();
        w(i, j) = original;
        dw(i, j) = (plus - minus) / (2 * eps);
      }
  });
  const S value = mlp.loss();
  mlp.for_each_parameter([&](auto& w, auto& dw) { w -= lr * dw; });
  return value;
}

}  // namespace bench
