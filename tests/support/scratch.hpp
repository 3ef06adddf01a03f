/// @file
/// @brief Scratch files for tests that write to disk, removed when the test process exits.
///
/// Every path lies in one directory per process, tapeless_test_<pid> in the system's temporary
/// directory, created on first use and removed with everything in it when the process exits
/// normally: a test run leaves nothing behind (a crashed one leaves its directory, to look at).
#pragma once

#include <filesystem>
#include <string>
#include <system_error>
#include <unistd.h>

namespace test {

namespace detail {
struct scratch_directory {
  std::filesystem::path path = std::filesystem::temp_directory_path() / ("tapeless_test_" + std::to_string(::getpid()));
  scratch_directory() { std::filesystem::create_directories(path); }
  scratch_directory(const scratch_directory&) = delete;
  scratch_directory& operator=(const scratch_directory&) = delete;
  ~scratch_directory() {
    std::error_code ignored;  // a destructor at exit: nothing to report to
    std::filesystem::remove_all(path, ignored);
  }
};
}  // namespace detail

/// The path of a file named `name` in this process's scratch directory.
inline std::string scratch_path(const std::string& name) {
  static const detail::scratch_directory directory;
  return (directory.path / name).string();
}

}  // namespace test
