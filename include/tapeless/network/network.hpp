/// @file
/// @brief `Network<Layers, S>`: a layer type's parameters in two contiguous buffers (values and
/// gradients), named and indexed, initialised from a seed.
///
/// The buffers make copying, saving, zeroing and optimizer updates single vector operations.
/// Parameter views (`TensorRef`) point into them; they live in one heap block that does not move
/// when the network is moved, so expressions built from a network stay valid across moves.
#pragma once

#include "tapeless/core/error.hpp"
#include "tapeless/core/shape.hpp"
#include "tapeless/core/tensor.hpp"
#include "tapeless/detail/owned.hpp"
#include "tapeless/layers/layer.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tapeless {

/// One parameter (or its gradient) in a network's buffer, as `Network::parameter(name)` returns
/// it: an `Eigen::Map` of its shape whose assignments (`=`, `+=`, `-=`) check the shape of what is
/// assigned and throw `shape_error` naming the parameter and both shapes, changing nothing. (A
/// plain map writes past the parameter in a Release build.) Reads, coefficient access and
/// in-place Eigen calls are the map's own; `noalias()` and the `TensorRef`s of `params()` are the
/// unchecked paths.
template <class S>
class ParameterMap : public Eigen::Map<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>> {
  using base = Eigen::Map<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>>;

 public:
  ParameterMap(S* data, Index rows, Index cols, const std::string& name) : base(data, rows, cols), name_(&name) {}
  ParameterMap(const ParameterMap&) = default;
  ParameterMap(ParameterMap&&) noexcept = default;
  ~ParameterMap() = default;

  /// The parameter's name ("0.weight").
  const std::string& name() const noexcept { return *name_; }

  template <class D>
  ParameterMap& operator=(const Eigen::DenseBase<D>& m) {
    check("assign", m.rows(), m.cols());
    base::operator=(m);
    return *this;
  }
  ParameterMap& operator=(const ParameterMap& m) {  // copies values, as Eigen's maps do
    if (this != &m) *this = static_cast<const base&>(m);
    return *this;
  }
  ParameterMap& operator=(ParameterMap&& m) { return *this = static_cast<const ParameterMap&>(m); }
  template <class D>
  ParameterMap& operator+=(const Eigen::DenseBase<D>& m) {
    check("add", m.rows(), m.cols());
    base::operator+=(m);
    return *this;
  }
  template <class D>
  ParameterMap& operator-=(const Eigen::DenseBase<D>& m) {
    check("subtract", m.rows(), m.cols());
    base::operator-=(m);
    return *this;
  }

 private:
  void check(const char* what, Index rows, Index cols) const {
    if (rows != this->rows() || cols != this->cols())
      throw shape_error("tapeless::Network: parameter '" + *name_ + "' is " +
                        to_string(Dims{this->rows(), this->cols()}) + ": cannot " + what + " a " +
                        to_string(Dims{rows, cols}) + " matrix");
  }
  const std::string* name_;  // the network's ParameterInfo::name
};

/// One parameter as the network lists it.
struct ParameterInfo {
  std::string name;  ///< PyTorch-style: "0.weight", "2.bias"
  Index offset;      ///< into values() and gradients()
  Index rows;
  Index cols;
  ParameterRole role;  ///< declared by its layer; decides the layout in model files
};

/// How given weights are laid out (`Network::from_parameters`): ours, a weight In x Out (x W),
/// or PyTorch's nn.Linear, [Out, In] (x W^T). Biases are a row or a column either way.
enum class Layout { tapeless, pytorch };

template <class Layers, class S = float>
class Network {
 public:
  using layers = Layers;
  using scalar_type = S;
  using vector_type = Eigen::Matrix<S, Eigen::Dynamic, 1>;
  using params_type = typename layer_t<Layers>::template params<S>;
  using matrix_view = ParameterMap<S>;
  using const_matrix_view = Eigen::Map<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>>;
  static constexpr int in = layer_t<Layers>::in;
  static constexpr int out = layer_t<Layers>::out;
  static constexpr Index parameter_size = layer_t<Layers>::parameter_size;

  /// Parameters drawn from `seed`: the same weights on every machine. The default scheme follows
  /// the activations: Xavier for a Sigmoid or Tanh network, He otherwise (`default_init`).
  explicit Network(std::uint64_t seed = 0, Init how = default_init<Layers>()) : state_(detail::make_owned<State>()) {
    Rng rng(seed);
    layer_t<Layers>::init(state_->params, how, rng);
    index();
  }
  /// A network with the given parameters instead of drawn ones: every parameter by name, a weight
  /// In x Out (`Layout::tapeless`, x W) or [Out, In] (`Layout::pytorch`, nn.Linear's), a bias as a
  /// row or a column of Out values. Throws before building anything: std::invalid_argument
  /// listing missing and unexpected names, shape_error naming a parameter and both shapes,
  /// std::invalid_argument for a non-finite value.
  /// `given` is a map from names to Eigen matrices (std::map<std::string, Eigen::MatrixXf>, an
  /// unordered_map: anything with find(name) and iteration over {name, matrix} pairs).
  template <class Map>
  static Network from_parameters(const Map& given, Layout layout = Layout::tapeless) {
    Network net(0);
    std::string missing, unexpected;
    for (const ParameterInfo& p : net.info_)
      if (given.find(p.name) == given.end()) missing += (missing.empty() ? "'" : ", '") + p.name + "'";
    for (const auto& entry : given)
      if (std::none_of(net.info_.begin(), net.info_.end(),
                       [&](const ParameterInfo& p) { return p.name == entry.first; }))
        unexpected += (unexpected.empty() ? "'" : ", '") + entry.first + "'";
    if (!missing.empty() || !unexpected.empty())
      throw std::invalid_argument(
          "tapeless::Network::from_parameters: " + (missing.empty() ? std::string() : "missing " + missing) +
          (missing.empty() || unexpected.empty() ? "" : "; ") +
          (unexpected.empty() ? std::string() : "unexpected " + unexpected));
    for (const ParameterInfo& p : net.info_) {
      const auto& m = given.find(p.name)->second;
      const bool transposed = p.role == ParameterRole::weight ? layout == Layout::pytorch : m.rows() != p.rows;
      const Index rows = transposed ? m.cols() : m.rows(), cols = transposed ? m.rows() : m.cols();
      if (rows != p.rows || cols != p.cols)
        throw shape_error("tapeless::Network::from_parameters: '" + p.name + "' is " + std::to_string(m.rows()) + "x" +
                          std::to_string(m.cols()) + ", expected " +
                          (p.role == ParameterRole::weight && layout == Layout::pytorch
                               ? std::to_string(p.cols) + "x" + std::to_string(p.rows) + " (PyTorch's [out, in])"
                               : std::to_string(p.rows) + "x" + std::to_string(p.cols)));
      if (!m.allFinite())
        throw std::invalid_argument("tapeless::Network::from_parameters: '" + p.name + "' has a non-finite value");
      auto view = net.parameter(p.name);
      if (transposed)
        view = m.transpose().template cast<S>();
      else
        view = m.template cast<S>();
    }
    return net;
  }

  /// A deep copy: its own buffers, its views into them. Throws std::logic_error if `other` was
  /// moved from.
  Network(const Network& other) : state_(detail::make_owned<State>()), info_(other.checked().info_) {
    state_->values = other.state_->values;
    state_->gradients = other.state_->gradients;
  }
  /// Copies values and gradients; into a moved-from network too, which becomes whole again.
  /// Throws std::logic_error, leaving *this as it was, if `other` was moved from.
  Network& operator=(const Network& other) {
    other.checked();
    if (this == &other) return *this;
    if (!state_) {
      Network copy(other);
      return *this = std::move(copy);
    }
    state_->values = other.state_->values;  // same type, same size: no allocation
    state_->gradients = other.state_->gradients;
    return *this;
  }
  /// A move takes the buffers (views and expressions built from them stay valid); the network
  /// moved from is *empty*: it holds no buffers and no parameters, and may only be assigned to,
  /// tested with empty(), or destroyed.
  Network(Network&&) noexcept = default;
  Network& operator=(Network&&) noexcept = default;

  /// True for a network that was moved from.
  bool empty() const noexcept { return !state_; }

  /// All parameter values, contiguous, in the order parameters() lists them.
  vector_type& values() noexcept { return state_->values; }
  const vector_type& values() const noexcept { return state_->values; }
  /// All gradients, in the same layout (written by a Trainer's backward pass).
  vector_type& gradients() noexcept { return state_->gradients; }
  const vector_type& gradients() const noexcept { return state_->gradients; }

  /// The typed views, for building expressions.
  params_type& params() noexcept { return state_->params; }
  const params_type& params() const noexcept { return state_->params; }

  /// The network's forward expression applied to `x`.
  template <class X>
  auto forward(X&& x) const {
    return layer_t<Layers>::apply(std::forward<X>(x), state_->params);
  }

  /// The layers as text, PyTorch-style: "Sequential(Linear(784, 256), ReLU, Linear(256, 10))".
  /// Model files record it (io/safetensors.hpp) and refuse to load into another architecture.
  static std::string architecture() { return describe_layer<layer_t<Layers>>(); }

  /// Every parameter's name, offset and shape, in storage order.
  const std::vector<ParameterInfo>& parameters() const noexcept { return info_; }

  /// A parameter by name, as a matrix view of values() whose assignments check their shape
  /// (`ParameterMap`); throws std::out_of_range naming it.
  matrix_view parameter(std::string_view name) { return view(state_->values, find(name)); }
  /// The gradient of a parameter by name.
  matrix_view gradient(std::string_view name) { return view(state_->gradients, find(name)); }
  /// A parameter by index in parameters().
  matrix_view parameter(std::size_t i) { return view(state_->values, info_.at(i)); }
  /// The gradient of a parameter by index in parameters().
  matrix_view gradient(std::size_t i) { return view(state_->gradients, info_.at(i)); }
  /// Read-only views of the same, on a const network.
  const_matrix_view parameter(std::string_view name) const { return const_view(state_->values, find(name)); }
  const_matrix_view gradient(std::string_view name) const { return const_view(state_->gradients, find(name)); }
  const_matrix_view parameter(std::size_t i) const { return const_view(state_->values, info_.at(i)); }
  const_matrix_view gradient(std::size_t i) const { return const_view(state_->gradients, info_.at(i)); }

 private:
  struct State {
    vector_type values = vector_type::Zero(parameter_size);
    vector_type gradients = vector_type::Zero(parameter_size);
    S* value_cursor = values.data();
    S* gradient_cursor = gradients.data();
    params_type params{value_cursor, gradient_cursor};
  };

  void index() {
    const S* base = state_->values.data();
    layer_t<Layers>::visit(state_->params, "", [&](const std::string& name, const auto& ref, ParameterRole role) {
      info_.push_back({name, static_cast<Index>(ref.value().data() - base), ref.rows(), ref.cols(), role});
    });
  }

  const Network& checked() const {
    if (!state_) throw std::logic_error("tapeless::Network: copying from a network that was moved from (it is empty)");
    return *this;
  }

  static matrix_view view(vector_type& buffer, const ParameterInfo& p) {
    return {buffer.data() + p.offset, p.rows, p.cols, p.name};
  }
  static const_matrix_view const_view(const vector_type& buffer, const ParameterInfo& p) {
    return {buffer.data() + p.offset, p.rows, p.cols};
  }

  const ParameterInfo& find(std::string_view name) const {
    for (const auto& p : info_)
      if (p.name == name) return p;
    throw std::out_of_range("tapeless::Network: no parameter named '" + std::string(name) + "'");
  }

  detail::owned<State> state_;
  std::vector<ParameterInfo> info_;
};

}  // namespace tapeless
