/// @file
/// @brief `Predictor<Net, Batch>`: inference on a const network.
///
/// A predictor owns its input tensor and the network compiled forward-only, layer by layer
/// (network/chain.hpp), and reads the network's
/// parameters without writing anything: any number of predictors, one per thread, can run on
/// the same const network at once (there is no hidden mutable state and no shared scratch;
/// tests/network/concurrency.cpp runs it under ThreadSanitizer). After construction an
/// inference allocates nothing while the batch size stays the same.
///
/// Movable, not copyable: the input and the programs live in one heap block allocated at
/// construction, which a move hands over. A moved-from Predictor may only be destroyed or
/// assigned to.
#pragma once

#include "tapeless/core/leaf.hpp"
#include "tapeless/core/tensor.hpp"
#include "tapeless/detail/owned.hpp"
#include "tapeless/network/chain.hpp"

#include <Eigen/Core>

#include <type_traits>
#include <utility>

namespace tapeless {

template <class Net, int Batch = dynamic>
class Predictor {
 public:
  using scalar_type = typename Net::scalar_type;
  using input_type = Tensor<scalar_type, Batch, Net::in>;

 private:
  static input_type make_input(Index batch) {
    if constexpr (Batch == dynamic)
      return input_type(batch);
    else
      return input_type();
  }

 public:
  explicit Predictor(const Net& net, Index batch = Batch == dynamic ? 1 : Batch);
  Predictor(Predictor&&) noexcept = default;  // hands over the block the programs live in
  Predictor& operator=(Predictor&&) noexcept = default;
  Predictor(const Predictor&) = delete;  // the programs refer to this object's input
  Predictor& operator=(const Predictor&) = delete;
  ~Predictor();

  input_type& inputs() noexcept { return s_->x; }

  /// The network's output for the current inputs (batch x Net::out).
  const auto& operator()() { return run(); }

  /// Single-sample inference, on a batch-1 predictor: the output row (1 x Net::out) for one input
  /// row (a row or a column vector of Net::in values; another shape does not compile, or, known
  /// only at run time, throws shape_error). `Predictor<Net, 1>`: fixed sizes, no allocation.
  template <class Row>
  const auto& predict(const Eigen::MatrixBase<Row>& row) requires(Batch == 1) {
    if constexpr (Row::ColsAtCompileTime == 1 && Row::RowsAtCompileTime != 1)
      s_->x = row.transpose();
    else if constexpr (Row::ColsAtCompileTime == Eigen::Dynamic && Row::RowsAtCompileTime == Eigen::Dynamic) {
      if (row.rows() != 1 && row.cols() == 1)
        s_->x = row.transpose();
      else
        s_->x = row;  // checked: throws shape_error unless 1 x Net::in
    } else {
      s_->x = row;
    }
    return run();
  }

 private:
  using chain_type = detail::chain<Net, Batch, false>;
  using output_value = std::remove_cvref_t<decltype(std::declval<const chain_type&>().value())>;
  struct State {
    input_type x;
    chain_type chain;
    State(const Net& net, Index batch) : x(make_input(batch)), chain(x, net.params()) {}
  };
  detail::owned<State> s_;

  const output_value& run();
};

// Defined outside the class (not inline), for `extern template class Predictor<...>;`: see
// network/trainer.hpp.

template <class Net, int Batch>
Predictor<Net, Batch>::Predictor(const Net& net, Index batch) : s_(detail::make_owned<State>(net, batch)) {}

template <class Net, int Batch>
Predictor<Net, Batch>::~Predictor() = default;

template <class Net, int Batch>
auto Predictor<Net, Batch>::run() -> const output_value& {
  s_->chain.forward();
  return s_->chain.value();
}

}  // namespace tapeless
