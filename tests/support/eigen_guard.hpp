// Eigen's heap guard on in every build type. EIGEN_RUNTIME_NO_MALLOC makes Eigen check each of
// its own allocations against set_is_malloc_allowed(), but the check is an eigen_assert, which
// NDEBUG (a Release build) compiles out: a Release test would miss an Eigen matrix resized during
// a step. Included before any Eigen header, this keeps eigen_assert (every Eigen assertion, in
// this translation unit) on: a forbidden allocation aborts the test, naming the assertion.
#pragma once

#ifdef EIGEN_CORE_H
#error "include support/eigen_guard.hpp before any Eigen header"
#endif

#define EIGEN_RUNTIME_NO_MALLOC

#include <cstdio>
#include <cstdlib>

#define eigen_assert(x)       \
  (static_cast<bool>(x)       \
       ? static_cast<void>(0) \
       : (std::fprintf(stderr, "%s:%d: Eigen assertion failed: %s\n", __FILE__, __LINE__, #x), std::abort()))
