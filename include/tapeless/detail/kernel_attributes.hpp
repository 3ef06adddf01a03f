/// @file
/// @brief `TAPELESS_KERNEL`: the attribute of a kernel that is compiled once per scalar and called
/// with sizes known at run time. No stability promise.
///
/// Not inlined, and under g++ not analysed across calls either (`noipa`): g++ 12 at -O3 clones such
/// a function for a caller's constant sizes (a 16x3 weight gradient at a run-time batch, say),
/// then warns (-Waggressive-loop-optimizations: "iteration 4611686018427387903 invokes undefined
/// behavior") about its loops on paths those constants rule out, in the user's build.
/// tests/warnings/user_program.cpp is the check. clang has no `noipa` and does not clone so.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#define TAPELESS_KERNEL [[gnu::noipa]]
#else
#define TAPELESS_KERNEL [[gnu::noinline]]
#endif
