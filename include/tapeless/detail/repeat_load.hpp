/// @file
/// @brief `repeat_load<P>(from, first, times)`: a packet of `from[first / times], ...`, each
/// coefficient repeated `times` (1, 2 or 4) times down the packet: Eigen's `ploadu`, `ploaddup`, `ploadquad`.
/// The packets of an outer product dW = x^T g whose columns are shorter than a packet
/// (detail/unpacked_gemm.hpp's `outer_gemm`, detail/outer_update.hpp). No stability promise.
///
/// Why not Eigen's own: its SSE `ploaddup<Packet4f>` reads the two floats as one `double` through
/// a `const double*` (`_mm_load_sd`), which g++'s SSE2 header dereferences. At a float address
/// not a multiple of 8 that load is undefined behaviour (g++'s UBSan stops on it: "load of
/// misaligned address ... for type 'const double'"), and the callers' addresses are any float's.
/// Here those two floats are copied into the double (one unaligned 8-byte load once compiled).
/// Every other packet type goes to Eigen, whose loads there are intrinsics with no alignment.
#pragma once

#include <Eigen/Core>

#include <cstring>
#include <type_traits>

namespace tapeless::detail {

/// The packet of coefficients [first, first + lanes) of `from` with each repeated `times` times:
/// lane l holds from[(first + l) / times]. `times` is 1, 2 or 4 (4 only for packets of at least 4
/// lanes) and divides `first`. Reads lanes / times coefficients, at any address.
template <class P, class S>
[[gnu::always_inline]] inline P repeat_load(const S* from, Eigen::Index first, Eigen::Index times) {
  using namespace Eigen::internal;
  if (times == 1) return ploadu<P>(from + first);
  if (times == 4) return ploadquad<P>(from + first / 4);
  from += first / 2;
#if defined(EIGEN_VECTORIZE_SSE2) && !defined(EIGEN_VECTORIZE_AVX)
  if constexpr (std::is_same_v<S, float> && sizeof(P) == 16) {  // (P is Packet4f)
    double pair;
    std::memcpy(&pair, from, sizeof pair);
    const Packet4f low = _mm_castpd_ps(_mm_set_sd(pair));
    return _mm_unpacklo_ps(low, low);
  }
#endif
  return ploaddup<P>(from);
}

}  // namespace tapeless::detail
