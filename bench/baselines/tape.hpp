/// @file
/// @brief A minimal tape-based reverse mode over the same Eigen kernels, to isolate what the
/// tape itself costs.
///
/// Every operation run on a `Tape` appends a node: its value (a freshly allocated dynamic
/// matrix), its gradient, its parents and a type-erased backward closure. `backward()` seeds
/// the last node with 1 and replays the nodes in reverse, each closure accumulating into its
/// parents' gradients. This is the structure of PyTorch's autograd and of micrograd, without
/// their dispatch layers: the arithmetic is the hand-written baseline's, the rest is the tape.
/// Parameters are leaves that refer to persistent matrices, so their gradients outlive the tape.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

namespace bench::tape {

template <class S>
using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;

/// A trainable matrix: its value and the gradient that backward() accumulates into.
template <class S>
struct Param {
  Mat<S> value, grad;
  Param(Eigen::Index rows, Eigen::Index cols) : value(Mat<S>::Zero(rows, cols)), grad(Mat<S>::Zero(rows, cols)) {}
};

template <class S>
class Tape {
 public:
  using Id = std::size_t;

  /// Records nothing for backward when false (inference: PyTorch's no_grad).
  bool recording = true;

  void clear() { nodes_.clear(); }

  Id leaf(const Mat<S>& value) { return push(&value, nullptr, {}); }
  Id param(Param<S>& p) { return push(&p.value, &p.grad, {}); }

  Id matmul(Id a, Id b) {
    Id y = push(nullptr, nullptr, {a, b});
    nodes_[y].value.noalias() = value(a) * value(b);
    backward_of(y, [](Tape& t, Id self, Id a, Id b) {
      if (t.wants(a)) t.grad(a).noalias() += t.nodes_[self].grad * t.value(b).transpose();
      if (t.wants(b)) t.grad(b).noalias() += t.value(a).transpose() * t.nodes_[self].grad;
    });
    return y;
  }
  /// z + b, b a 1 x n row broadcast over z's rows.
  Id add_row(Id z, Id b) {
    Id y = push(nullptr, nullptr, {z, b});
    nodes_[y].value = value(z);
    nodes_[y].value.rowwise() += value(b).row(0);
    backward_of(y, [](Tape& t, Id self, Id z, Id b) {
      if (t.wants(z)) t.grad(z) += t.nodes_[self].grad;
      if (t.wants(b)) t.grad(b) += t.nodes_[self].grad.colwise().sum();
    });
    return y;
  }
  Id relu(Id x) {
    Id y = push(nullptr, nullptr, {x});
    nodes_[y].value = value(x).cwiseMax(S(0));
    backward_of(y, [](Tape& t, Id self, Id x, Id) {
      if (t.wants(x)) t.grad(x).array() += (t.value(x).array() > S(0)).select(t.nodes_[self].grad.array(), S(0));
    });
    return y;
  }
  Id sigmoid(Id x) {
    Id y = push(nullptr, nullptr, {x});
    nodes_[y].value = (S(1) + (-value(x).array()).exp()).inverse().matrix();
    backward_of(y, [](Tape& t, Id self, Id x, Id) {
      const auto& a = t.nodes_[self].value.array();
      if (t.wants(x)) t.grad(x).array() += t.nodes_[self].grad.array() * a * (S(1) - a);
    });
    return y;
  }
  /// Softmax + cross-entropy on class indices, averaged over the rows: a 1 x 1 node.
  Id softmax_ce(Id z, const std::vector<int>& labels) {
    Id y = push(nullptr, nullptr, {z});
    const Mat<S>& logits = value(z);
    Mat<S> p = (logits.colwise() - logits.rowwise().maxCoeff()).array().exp().matrix();
    p.array().colwise() /= p.rowwise().sum().array();
    S loss = 0;
    for (Eigen::Index i = 0; i < p.rows(); ++i) loss -= std::log(p(i, labels[static_cast<std::size_t>(i)]));
    nodes_[y].value = Mat<S>::Constant(1, 1, loss / S(p.rows()));
    const std::vector<int>* l = &labels;
    nodes_[y].backward = [p = std::move(p), l](Tape& t, Id self) {
      const Id z = t.nodes_[self].parents[0];
      const S g = t.nodes_[self].grad(0, 0) / S(p.rows());
      Mat<S>& dz = t.grad(z);
      dz += g * p;
      for (Eigen::Index i = 0; i < p.rows(); ++i) dz(i, (*l)[static_cast<std::size_t>(i)]) -= g;
    };
    return y;
  }

  /// Replays the tape from node `root` (a 1 x 1 loss) down to the leaves.
  void backward(Id root) {
    nodes_[root].grad = Mat<S>::Ones(1, 1);
    for (Id i = root + 1; i-- > 0;)
      if (nodes_[i].backward && nodes_[i].grad.size() != 0) nodes_[i].backward(*this, i);
  }

  const Mat<S>& value(Id i) const { return nodes_[i].external ? *nodes_[i].external : nodes_[i].value; }

 private:
  struct Node {
    Mat<S> value;
    Mat<S> grad;                       // empty until something flows into it
    const Mat<S>* external = nullptr;  // a leaf's value
    Mat<S>* external_grad = nullptr;   // a parameter's gradient
    std::vector<Id> parents;
    std::function<void(Tape&, Id)> backward;
    bool requires_grad = false;
  };

  Id push(const Mat<S>* external, Mat<S>* external_grad, std::vector<Id> parents) {
    Node n;
    n.external = external;
    n.external_grad = external_grad;
    n.requires_grad = external_grad != nullptr;
    for (Id p : parents) n.requires_grad = n.requires_grad || nodes_[p].requires_grad;
    n.requires_grad = n.requires_grad && recording;
    n.parents = std::move(parents);
    nodes_.push_back(std::move(n));
    return nodes_.size() - 1;
  }
  template <class F>
  void backward_of(Id y, F f) {
    if (!nodes_[y].requires_grad) return;
    nodes_[y].backward = [f](Tape& t, Id self) {
      const auto& ps = t.nodes_[self].parents;
      f(t, self, ps[0], ps.size() > 1 ? ps[1] : ps[0]);
    };
  }
  bool wants(Id i) const { return nodes_[i].requires_grad; }
  /// The gradient to accumulate into: a parameter's own, or the node's, zeroed on first use.
  Mat<S>& grad(Id i) {
    Node& n = nodes_[i];
    if (n.external_grad) return *n.external_grad;
    if (n.grad.size() == 0) n.grad = Mat<S>::Zero(value(i).rows(), value(i).cols());
    return n.grad;
  }

  std::vector<Node> nodes_;
};

/// An MLP on the tape: Linear layers with `Act` between them (relu or sigmoid), trained with
/// softmax cross-entropy and plain SGD. Parameters persist; the tape is rebuilt every step.
template <class S>
class TapeMlp {
 public:
  enum class Activation { relu, sigmoid };

  TapeMlp(const std::vector<int>& widths, Activation act, Eigen::Index batch)
      : x(batch, widths.front()), labels(static_cast<std::size_t>(batch)), act_(act) {
    for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
      weights.emplace_back(widths[i], widths[i + 1]);
      biases.emplace_back(1, widths[i + 1]);
    }
  }

  Mat<S> x;
  std::vector<int> labels;
  std::vector<Param<S>> weights, biases;

  /// Forward on the tape; returns the logits' node.
  typename Tape<S>::Id forward() {
    tape_.clear();
    auto h = tape_.leaf(x);
    for (std::size_t i = 0; i < weights.size(); ++i) {
      h = tape_.add_row(tape_.matmul(h, tape_.param(weights[i])), tape_.param(biases[i]));
      if (i + 1 < weights.size()) h = act_ == Activation::relu ? tape_.relu(h) : tape_.sigmoid(h);
    }
    return h;
  }
  const Mat<S>& infer() {
    tape_.recording = false;
    const auto out = forward();
    tape_.recording = true;
    return tape_.value(out);
  }
  S compute() {
    for (auto& p : weights) p.grad.setZero();  // PyTorch's zero_grad()
    for (auto& p : biases) p.grad.setZero();
    const auto loss = tape_.softmax_ce(forward(), labels);
    tape_.backward(loss);
    return tape_.value(loss)(0, 0);
  }
  /// Sets every parameter from `p`, laid out as tapeless's Network::values() (W then b per
  /// layer, each column-major, which is how Eigen stores them here too).
  void load(const S* p) {
    for (std::size_t i = 0; i < weights.size(); ++i)
      for (Mat<S>* m : {&weights[i].value, &biases[i].value}) {
        std::copy(p, p + m->size(), m->data());
        p += m->size();
      }
  }
  /// Every gradient of the last compute(), layer by layer (W then b), in tapeless's layout.
  std::vector<S> gradients() const {
    std::vector<S> g;
    for (std::size_t i = 0; i < weights.size(); ++i)
      for (const Mat<S>* m : {&weights[i].grad, &biases[i].grad}) g.insert(g.end(), m->data(), m->data() + m->size());
    return g;
  }
  S step(S lr) {
    const S loss = compute();
    for (auto& p : weights) p.value -= lr * p.grad;
    for (auto& p : biases) p.value -= lr * p.grad;
    return loss;
  }

 private:
  Activation act_;
  Tape<S> tape_;
};

}  // namespace bench::tape
