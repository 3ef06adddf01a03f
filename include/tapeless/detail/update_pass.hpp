/// @file
/// @brief `update_pass<Mode, S>(n, values, read, saved, kernel)`: one vectorised pass of an
/// optimizer's update over n coefficients, which checks, commits, or saves and commits it, and
/// reports whether every new value is finite. Sgd and Adam run on it (optim/sgd.hpp,
/// optim/adam.hpp). No stability promise.
///
/// Everything is taken by value, the kernel too (capture the plan's scalars by value): the loop
/// stores through S pointers, which may alias anything of type S the compiler cannot see is
/// local, and it would reload such values (a learning rate behind a reference) every packet.
///
/// `values` are the U vectors the update changes in place (the weights; a velocity, moments),
/// `read` the R vectors it only reads (the gradients). Per packet of Eigen's widest vector for
/// S, the pass loads the U old values and the R read values and calls `kernel(x, r)` (a
/// `P (&)[U]` and a `const P (&)[R]`), which replaces x with the new values. Then, by `Mode`:
/// - `Pass::check` stores nothing;
/// - `Pass::commit` stores the new values (and reports true: it follows a check);
/// - `Pass::save_and_commit` first stores the old values into `saved` (U vectors), then the new
///   ones: copying `saved` back undoes the pass, bit for bit.
/// Sgd saves and commits in one pass where its data fit in the L2 cache, and checks, then commits
/// (two passes of a few loads each, no copy) above that; Adam, whose kernel is a square root and
/// a division, saves and commits in one pass and undoes on failure.
///
/// Every coefficient goes through the packet code, the last ones too: a tail shorter than a
/// packet is covered by the last full packet, which overlaps the loop's last coefficients and is
/// computed first, from the old values (so the kernel must be coefficient-wise); a vector shorter
/// than one packet goes through one packet of copies, padded with its first coefficient. So a coefficient gets the same
/// bits in every pass and wherever a caller cuts the vector into slices, even where Eigen's packet functions round
/// differently from the scalar ones (under EIGEN_FAST_MATH, float psqrt on AVX and AVX-512 is rsqrt and a Newton step,
/// not the correctly rounded std::sqrt). That is also why a check followed by a commit needs no headroom: the commit
/// writes the values the check saw. (A padded tail, copied in and out, was tried first: its scalar stores and packet
/// reload stall store-to-load forwarding, 17 ns a pass at 4-16-16-3.)
///
/// The test: x * 0 is +-0 for a finite x and NaN for NaN or +-inf. The new values times 0 are
/// OR-ed together (one cycle per packet, no carried addition), and the pass reports whether the
/// bits stayed a zero: a NaN's bits never OR back to one. Like every NaN test, this needs IEEE
/// arithmetic: not under -ffast-math.
#pragma once

#include "tapeless/core/shape.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>

namespace tapeless::detail {

enum class Pass { check, commit, save_and_commit };

// The packets of a vector of at least one packet (update_pass below). Not inlined: g++ 12
// otherwise looks into it from a caller that allocated a vector shorter than a packet, and warns
// that its loads would be out of bounds (-Warray-bounds), on a path update_pass never takes
// for such a vector. One call per pass.
template <Pass Mode, class S, class T, std::size_t U, std::size_t R, class Kernel>
[[gnu::noinline]] bool update_packets(Index n, const std::array<T*, U> values, const std::array<const S*, R> read,
                                      const std::array<S*, U> saved, Kernel kernel) {
  using namespace Eigen::internal;
  using P = typename packet_traits<S>::type;
  constexpr Index L = packet_traits<S>::size;
  constexpr bool store = Mode != Pass::check, save = Mode == Pass::save_and_commit, test = Mode != Pass::commit;
  const P zero = pset1<P>(S(0));
  P bits = zero;
  P x[U], r[R];  // plain arrays: a packet type as a template argument loses its alignment attribute
  auto packet = [&](P(&v)[U], P(&w)[R], Index i) {  // loads (and saves), computes, tests
    for (std::size_t k = 0; k < U; ++k) {
      v[k] = ploadu<P>(values[k] + i);
      if constexpr (save) pstoreu(saved[k] + i, v[k]);
    }
    for (std::size_t k = 0; k < R; ++k) w[k] = ploadu<P>(read[k] + i);
    kernel(v, w);
    if constexpr (test)
      for (std::size_t k = 0; k < U; ++k) bits = por(bits, pmul(v[k], zero));
  };
  // A tail shorter than a packet is covered by the last full packet, [n - L, n), which overlaps
  // coefficients the loop also updates. It is computed first, from the old values, and stored
  // last: the overlap gets the loop's bits again (the kernel is coefficient-wise).
  const Index last = n - L;
  const bool overlap = n % L != 0;
  P y[U], z[R];
  for (std::size_t k = 0; k < U; ++k) y[k] = zero;  // (g++ cannot tell the two ifs agree)
  if (overlap) packet(y, z, last);
  for (Index i = 0; i + L <= n; i += L) {
    packet(x, r, i);
    if constexpr (store)
      for (std::size_t k = 0; k < U; ++k) pstoreu(values[k] + i, x[k]);
  }
  if constexpr (store)
    if (overlap)
      for (std::size_t k = 0; k < U; ++k) pstoreu(values[k] + last, y[k]);
  return predux(bits) == S(0);
}

template <Pass Mode, class S, class T, std::size_t U, std::size_t R, class Kernel>
bool update_pass(Index n, const std::array<T*, U> values, const std::array<const S*, R> read,
                 const std::array<S*, U> saved, Kernel kernel) {
  static_assert(std::is_same_v<std::remove_const_t<T>, S> && (Mode == Pass::check || !std::is_const_v<T>));
  static_assert(U > 0 && R > 0);
  constexpr Index L = Eigen::internal::packet_traits<S>::size;
  if (n >= L) return update_packets<Mode, S, T, U, R, Kernel>(n, values, read, saved, kernel);
  if (n == 0) return true;
  // Shorter than a packet: one packet of local copies, padded with copies of the first
  // coefficient (so the padding's new values are that coefficient's, tested again), then copied
  // back. Small networks only.
  S local[U + R][L], kept[U][L];
  std::array<T*, U> v;  // T: the same update_packets as the long vectors' (no second instance)
  std::array<S*, U> local_saved;
  std::array<const S*, R> r;
  auto pad = [&](S* to, const S* from) {
    std::fill_n(to, L, from[0]);
    std::copy_n(from, n, to);
    return to;
  };
  for (std::size_t k = 0; k < U; ++k) {
    v[k] = pad(local[k], values[k]);
    local_saved[k] = kept[k];
  }
  for (std::size_t k = 0; k < R; ++k) r[k] = pad(local[U + k], read[k]);
  const bool finite = update_packets<Mode, S, T, U, R, Kernel>(L, v, r, local_saved, kernel);
  for (std::size_t k = 0; k < U; ++k) {
    if constexpr (Mode != Pass::check) std::copy_n(local[k], n, values[k]);
    if constexpr (Mode == Pass::save_and_commit) std::copy_n(kept[k], n, saved[k]);
  }
  return finite;
}

}  // namespace tapeless::detail
