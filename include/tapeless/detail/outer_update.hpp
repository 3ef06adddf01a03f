/// @file
/// @brief `outer_update<Mode, S>(weights, count, kernel)`: one pass of an optimizer's update of
/// weights whose gradients are outer products, dW = x^T g (a Linear layer's weight at one row: x
/// its input row, g the adjoint of its output; its bias too, as x = 1), the gradients formed in
/// registers as the pass goes instead of read from memory. Sgd's update at one row runs on it
/// (optim/sgd.hpp, `check_outer` and `commit_outer`; network/trainer.hpp decides when). No
/// stability promise.
///
/// Each `outer_weight`: W and dW `in` x `out`, column-major and contiguous; x has `in`
/// coefficients, g `out`. One call per pass runs every weight of a network.
/// dW(i, j) = x_i g_j rounded once: what `outer_gemm` stores (detail/unpacked_gemm.hpp) and what
/// Eigen's outer product gives. Per packet of Eigen's widest vector for S, the pass loads W's old
/// values, forms the gradient's packet and calls `kernel(v, r)` as update_pass does
/// (detail/update_pass.hpp: a `P (&)[1]` of old weights it replaces with the new ones, and a
/// `const P (&)[1]` of gradients). Then, by `Mode`:
/// - `Pass::check` stores nothing and reports whether every new value is finite;
/// - `Pass::commit` stores the gradient into dW and the new values into W (and reports true: it
///   follows a check).
/// The kernel is coefficient-wise and runs on packets here as there, so a coefficient gets the
/// bits update_pass gives it from the stored gradient: a check and a commit here are
/// `outer_gemm` followed by the optimizer's own pass, bit for bit, gradients included.
///
/// Why: at one row, the update that follows backward is bound by its stores. An optimizer that
/// saves what it overwrites stores three times per coefficient (the gradient in backward, the
/// copy, the new weight), one that checks first reads everything twice. Here the check reads the
/// weight only, and the commit stores the gradient and the weight: 64-64-16 layers (9,360
/// parameters) 1.04-1.08 us -> 0.84-0.85 us on AVX-512 (bench/analysis.md, stop 36).
///
/// Which packets: with a column of at least one packet, each column's packets in turn, a tail
/// covered by the column's last full packet (computed first, from the old values, and stored
/// last, as update_pass does); with shorter columns (a layer of fewer inputs than a packet's
/// lanes), the coefficients in storage order, each packet's gradients formed as `outer_gemm`
/// forms them for 1, 2 or 4 inputs and multiplied one by one otherwise (the same rounding), a
/// tail covered the same way, and fewer coefficients than a packet padded with copies of the
/// first.
#pragma once

#include "tapeless/core/shape.hpp"
#include "tapeless/detail/kernel_attributes.hpp"
#include "tapeless/detail/repeat_load.hpp"
#include "tapeless/detail/update_pass.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>

namespace tapeless::detail {

/// A weight W (in x out, column-major, contiguous) whose gradient dW = x^T g is an outer product.
template <class S>
struct outer_weight {
  Index in = 0, out = 0;
  const S* x = nullptr;
  const S* g = nullptr;
  S* w = nullptr;
  S* dw = nullptr;
};

/// The x of a bias as an outer_weight (its gradient is g = 1^T g).
template <class S>
inline constexpr S outer_bias_input = S(1);

// One weight of outer_update: its packets, tested into `bits` (check) or stored (commit). The
// bits, the kernel and the weight by value (update_pass's reason: the stores through S pointers
// would make the compiler reload what a reference points to every packet).
template <Pass Mode, class S, class Kernel, class P = typename Eigen::internal::packet_traits<S>::type>
[[gnu::always_inline]] inline P outer_weight_packets(const outer_weight<S> o, const Kernel kernel, P bits) {
  using namespace Eigen::internal;
  const Index in = o.in, out = o.out;
  const S* const x = o.x;
  const S* const g = o.g;
  S* const w = o.w;
  S* const dw = o.dw;
  constexpr Index L = packet_traits<S>::size;
  constexpr bool store = Mode == Pass::commit;
  const P zero = pset1<P>(S(0));
  // one packet at w + e: old weights v[0], gradients r[0] (to be stored at dw + e), new weights
  // into v[0]; tested
  auto packet = [&](P(&v)[1], const P(&r)[1], const S* at) {
    v[0] = ploadu<P>(at);
    kernel(v, r);
    if constexpr (Mode == Pass::check) bits = por(bits, pmul(v[0], zero));
  };
  auto put = [&](Index e, const P(&v)[1], const P(&r)[1]) {
    if constexpr (store) {
      pstoreu(dw + e, r[0]);
      pstoreu(w + e, v[0]);
    }
  };
  const Index n = in * out;
  if (in >= L) {
    const bool overlap = in % L != 0;
    for (Index j = 0; j < out; ++j) {
      const P gj = pset1<P>(g[j]);
      const Index column = j * in, last = in - L;
      P y[1], z[1];
      if (overlap) {
        z[0] = pmul(ploadu<P>(x + last), gj);
        packet(y, z, w + column + last);
      }
      for (Index i = 0; i + L <= in; i += L) {
        P v[1];
        const P r[1] = {pmul(ploadu<P>(x + i), gj)};
        packet(v, r, w + column + i);
        put(column + i, v, r);
      }
      if (overlap) put(column + last, y, z);
    }
  } else if (n >= L) {
    // the gradients of coefficients [e, e + L): x repeated down the packet and each g_j `in` times
    // where `in` divides the packet (outer_gemm's packets: repeat_load), else
    // multiplied one by one
    const bool repeats = in == 1 || in == 2 || (in == 4 && L <= 16);  // (in < L here: in divides L)
    S products[L];
    P repeated = pset1<P>(x[0]);  // (a bias: x = 1)
    if (repeats && in > 1) {
      for (Index l = 0; l < L; ++l) products[l] = x[l & (in - 1)];
      repeated = ploadu<P>(products);
    }
    auto gradients = [&](Index e, P(&r)[1]) {
      if (repeats) {  // e is a multiple of in (so is the overlap's n - L)
        r[0] = pmul(repeated, repeat_load<P>(g, e, in));
        return;
      }
      Index i = e % in, j = e / in;  // then counters: a division per coefficient costs more than the pass
      for (Index l = 0; l < L; ++l) {
        products[l] = x[i] * g[j];
        if (++i == in) i = 0, ++j;
      }
      r[0] = ploadu<P>(products);
    };
    const Index last = n - L;
    const bool overlap = n % L != 0;
    P y[1], z[1];
    if (overlap) {
      gradients(last, z);
      packet(y, z, w + last);
    }
    for (Index e = 0; e + L <= n; e += L) {
      P v[1], r[1];
      gradients(e, r);
      packet(v, r, w + e);
      put(e, v, r);
    }
    if (overlap) put(last, y, z);
  } else if (n > 0) {
    // fewer coefficients than a packet: one packet of copies, padded with the first coefficient's
    S weights[L], products[L];
    for (Index l = 0, i = 0, j = 0; l < L; ++l) {
      if (l == n) i = 0, j = 0;
      weights[l] = w[l < n ? l : 0];
      products[l] = x[i] * g[j];
      if (l < n && ++i == in) i = 0, ++j;
    }
    P v[1];
    const P r[1] = {ploadu<P>(products)};
    packet(v, r, weights);
    if constexpr (store) {
      pstoreu(weights, v[0]);
      std::copy_n(weights, n, w);
      std::copy_n(products, n, dw);
    }
  }
  return bits;
}

template <Pass Mode, class S, class Kernel>
TAPELESS_KERNEL bool outer_update(const outer_weight<S>* weights, std::size_t count, Kernel kernel) {
  static_assert(Mode == Pass::check || Mode == Pass::commit);
  using P = typename Eigen::internal::packet_traits<S>::type;
  P bits = Eigen::internal::pset1<P>(S(0));
  for (std::size_t k = 0; k < count; ++k) bits = outer_weight_packets<Mode, S>(weights[k], kernel, bits);
  return Eigen::internal::predux(bits) == S(0);
}

}  // namespace tapeless::detail
