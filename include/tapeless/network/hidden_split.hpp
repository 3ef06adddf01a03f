/// @file
/// @brief How `ParallelTrainer` splits a network of one hidden layer by its hidden units
/// (tensor parallel), so that each thread keeps its own weights.
///
/// A network `Sequential<Linear<I, H>, F..., Linear<H, O>>`, every F an elementwise function
/// (ReLU, Tanh, a user's), computes, with A = F(x W1 + b1):
///
///     z = A W2 + b2 = sum_p A_p W2_p + b2,   A_p = F(x W1_p + b1_p)
///
/// where W1_p and b1_p are columns [p H/P, (p + 1) H/P) of W1 and b1, and W2_p the same rows of
/// W2: part p is the network `Sequential<Linear<I, H/P>, F..., Linear<H/P, O>>` over the whole
/// batch, and the parts only meet in the sum z. Backward is each part's own: the adjoint of z
/// seeds every part (dz/dz_p = 1), and part p's parameters get exactly their gradients in the
/// whole network (dW1_p = x^T dA_p, dW2_p = A_p^T dz, ...: the engine's adjoints, part by part).
///
/// So thread p owns W1_p, b1_p and W2_p (and part 0 owns b2): it computes their gradients over
/// the whole batch and updates them, and no weight or gradient crosses between cores; only the
/// parts' outputs z_p (batch x O) do. With row shards (each thread a slice of the batch) every
/// thread reads every weight each step and the gradients are summed across threads: on a
/// machine whose cores are far apart that traffic can cost more than the second core saves
/// (docs/design.md §7).
///
/// - W1_p is a block of W1's columns and b1_p a run of b1, contiguous in the network's buffers:
///   part p's views point straight into them. W2_p is a block of W2's rows (O runs of H/P
///   coefficients): part p keeps a copy of it, and of b2 (zero but in part 0, so that b2 is
///   added once), loaded from the network at every step and written back as gradients.
/// - Every thread adds the parts' outputs in part order and takes the loss on the sum itself
///   (batch x O, small): the same bits on every thread, with no thread waiting for another.
/// - Against one thread the results differ by rounding only: z is summed in a different order.
#pragma once

#include "tapeless/core/tensor.hpp"
#include "tapeless/layers/layer.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/network/chain.hpp"

#include <Eigen/Core>

#include <cstddef>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace tapeless::detail {

template <class L>
inline constexpr bool is_linear_v = false;
template <int I, int O>
inline constexpr bool is_linear_v<Linear<I, O>> = true;

/// An elementwise function used as a layer: column j of its output reads column j of its input
/// only (a one-operand op such as Softmax reads the whole row).
template <class L>
constexpr bool elementwise_layer() {
  using T = layer_t<L>;
  if constexpr (requires { typename T::function_type; }) {
    using F = typename T::function_type;
    return std::is_same_v<T, FunctionLayer<F>> && !requires { F::shape(Dims{}); };
  } else {
    return false;
  }
}

/// Whether a Sequential's layers (`All`, a std::tuple) are Linear<I, H>, then elementwise
/// functions (`Middle` indexes them, from 1), then Linear<H, O>, with H a multiple of P; if so,
/// `part` is the network of one part's H / P hidden units.
template <int P, class First, class Last, class All, class Middle>
struct linear_pair_split {
  static constexpr bool value = false;
};
template <int P, int I, int H, int H2, int O, class All, std::size_t... K>
struct linear_pair_split<P, Linear<I, H>, Linear<H2, O>, All, std::index_sequence<K...>> {
  static constexpr bool value =
      H == H2 && H % P == 0 && (elementwise_layer<std::tuple_element_t<K + 1, All>>() && ... && true);
  static constexpr int hidden = H;
  static constexpr std::size_t layers = sizeof...(K) + 2;
  using part = Sequential<Linear<I, (H / P > 0 ? H / P : 1)>, std::tuple_element_t<K + 1, All>...,
                          Linear<(H / P > 0 ? H / P : 1), O>>;
};

/// Whether a network's layers are `Sequential<Linear<I, H>, F..., Linear<H, O>>` (every F an
/// elementwise function) with H a multiple of P (`value`); then `hidden` is H, `layers` how many
/// layers there are and `part` the network of one part's H / P hidden units.
template <class Layers, int P>
struct hidden_split {
  static constexpr bool value = false;
};
template <int P, class... L>
requires(sizeof...(L) >= 2) struct hidden_split<Sequential<L...>, P>
    : linear_pair_split<P, std::tuple_element_t<0, std::tuple<L...>>,
                        std::tuple_element_t<sizeof...(L) - 1, std::tuple<L...>>, std::tuple<L...>,
                        std::make_index_sequence<sizeof...(L) - 2>> {
};

/// Points a parameter view at other memory (before any program refers to it).
template <class S, int R, int C>
void point(TensorRef<S, R, C>& t, S* value, S* gradient) noexcept {
  std::destroy_at(&t);
  std::construct_at(&t, value, gradient);
}

/// Part p of P of a network split by hidden units, trained over the whole batch: its program
/// (over the caller's batch), its copies of W2_p and b2, and its own sum of the parts' outputs
/// with its own loss program over it. Thread p runs part p.
template <class Net, class Loss, int Batch, int P>
class split_part {
  using S = typename Net::scalar_type;
  using split = hidden_split<typename Net::layers, P>;
  static_assert(split::value, "tapeless: split_part needs a network hidden_split accepts");
  static constexpr int In = Net::in, H = split::hidden, Hp = H / P, O = Net::out;

  struct part_net {  // what detail::chain reads of a network
    using layers = typename split::part;
    using scalar_type = S;
    static constexpr int in = In;
    static constexpr int out = O;
  };
  using chain_type = chain<part_net, Batch, true, FullPrecision>;
  using params_type = typename layer_t<typename split::part>::template params<S>;
  using vector_type = Eigen::Matrix<S, Eigen::Dynamic, 1>;
  using sum_type = storage_t<S, Batch, O>;
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(std::declval<const chain_type&>().value())>, sum_type>);
  using sum_view = boundary<S, Batch, O>;
  using target_type = typename Loss::template target_type<S, Batch, O>;
  static auto make_loss(const sum_view& z, const target_type& y) {
    auto loss = Loss::apply(var(z), y);
    return Program<decltype(loss), sum_view>(std::move(loss), z);
  }
  using loss_program = decltype(make_loss(std::declval<const sum_view&>(), std::declval<const target_type&>()));
  using matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;

 public:
  using input_type = Tensor<S, Batch, In>;
  /// A range of the network's parameter buffers: [first, first + size).
  using Range = std::pair<Index, Index>;

  /// Part `p` of `net`, reading the batch `x` and the targets `y` (the caller's, which must
  /// outlive it).
  split_part(Net& net, int p, const input_type& x, const target_type& y)
      : net_(&net),
        p_(p),
        w1_(offset(net, net.params().template layer<0>().weight)),
        b1_(offset(net, net.params().template layer<0>().bias)),
        w2_(offset(net, net.params().template layer<split::layers - 1>().weight)),
        b2_(offset(net, net.params().template layer<split::layers - 1>().bias)),
        second_(vector_type::Zero(Index{Hp} * O + O)),
        second_gradient_(vector_type::Zero(Index{Hp} * O + O)),
        params_(over(net)),
        chain_(x, pointed()),
        sum_(chain_.value()),
        loss_(make_loss(sum_view_, y)) {
    owned_.push_back({w1_ + Index{p} * In * Hp, Index{In} * Hp});
    owned_.push_back({b1_ + Index{p} * Hp, Hp});
    for (Index j = 0; j < O; ++j) owned_.push_back({w2_ + j * H + Index{p} * Hp, Hp});
    if (p == 0) owned_.push_back({b2_, O});
  }
  split_part(const split_part&) = delete;  // its programs refer to its members
  split_part& operator=(const split_part&) = delete;

  /// Loads W2_p (and, part 0, b2) from the network, then runs the part's forward pass.
  void forward() {
    Eigen::Map<matrix>(second_.data(), Hp, O) =
        Eigen::Map<const matrix>(net_->values().data() + w2_, H, O).middleRows(Index{p_} * Hp, Hp);
    if (p_ == 0) second_.tail(O) = net_->values().segment(b2_, O);
    chain_.forward();
  }
  /// After every part's forward: the parts' outputs summed in part order, the loss on the sum,
  /// and backward to this part's parameters, whose gradients end in the network's buffer.
  /// Returns the loss.
  template <class Parts>
  double backward(const Parts& parts) {
    sum_ = parts[0]->chain_.value();
    for (std::size_t q = 1; q < parts.size(); ++q) sum_ += parts[q]->chain_.value();
    loss_.run();
    chain_.backward(loss_.template gradient<0>());
    Eigen::Map<matrix>(net_->gradients().data() + w2_, H, O).middleRows(Index{p_} * Hp, Hp) =
        Eigen::Map<const matrix>(second_gradient_.data(), Hp, O);
    if (p_ == 0) net_->gradients().segment(b2_, O) = second_gradient_.tail(O);
    return static_cast<double>(loss_.scalar());
  }
  /// The network's output for the batch (after backward()): the sum the loss was taken on.
  const sum_type& output() const noexcept { return sum_; }
  /// The parameters this part's thread updates.
  const std::vector<Range>& owned() const noexcept { return owned_; }

 private:
  template <class Ref>
  static Index offset(const Net& net, const Ref& r) {
    return static_cast<Index>(r.value().data() - net.values().data());
  }
  /// The part's views, built over the network's buffers (the part is smaller, so they stay
  /// inside), then pointed where they belong (pointed()).
  static params_type over(Net& net) {
    S* value = net.values().data();
    S* gradient = net.gradients().data();
    return params_type(value, gradient);
  }
  params_type& pointed() {
    S* v = net_->values().data();
    S* g = net_->gradients().data();
    auto& first = params_.template layer<0>();
    auto& last = params_.template layer<split::layers - 1>();
    point(first.weight, v + w1_ + Index{p_} * In * Hp, g + w1_ + Index{p_} * In * Hp);
    point(first.bias, v + b1_ + Index{p_} * Hp, g + b1_ + Index{p_} * Hp);
    point(last.weight, second_.data(), second_gradient_.data());
    point(last.bias, second_.data() + Index{Hp} * O, second_gradient_.data() + Index{Hp} * O);
    return params_;
  }

  Net* net_;
  int p_;
  Index w1_, b1_, w2_, b2_;               // the network's parameters, as offsets into its buffers
  vector_type second_, second_gradient_;  // W2_p (Hp x O) then b2 (zero but in part 0)
  params_type params_;
  chain_type chain_;
  sum_type sum_;
  sum_view sum_view_{&sum_};
  loss_program loss_;
  std::vector<Range> owned_;
};

}  // namespace tapeless::detail
