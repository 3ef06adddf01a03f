// Hostile inputs shared by the readers' tests: paths that are not regular files, the committed
// hand-crafted files (tests/fixtures/hostile, made by make_hostile.py), and a watchdog that fails
// a test which blocks instead of refusing.
#pragma once

#include <csignal>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace test {

/// A committed hostile fixture.
inline std::string hostile(const std::string& name) { return std::string(TAPELESS_FIXTURES) + "/hostile/" + name; }

/// Paths that are not regular files, each with the word its refusal must contain: a directory,
/// a symlink to /dev/zero (an endless character device), a FIFO nobody writes to (a blocking
/// open or read would hang). Made under `dir`.
inline std::vector<std::pair<std::string, std::string>> non_regular_files(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const std::string directory = (dir / "a_directory").string();
  const std::string zero = (dir / "zero_link").string();
  const std::string fifo = (dir / "a_fifo").string();
  std::filesystem::create_directories(directory);
  std::error_code ec;
  std::filesystem::remove(zero, ec);
  std::filesystem::create_symlink("/dev/zero", zero);
  std::filesystem::remove(fifo, ec);
  ::mkfifo(fifo.c_str(), 0600);
  return {{directory, "is a directory, not a regular file"},
          {zero, "is a character device, not a regular file"},
          {fifo, "is a FIFO, not a regular file"}};
}

/// Kills the test process (SIGALRM) if the scope takes longer than `seconds`: a reader that
/// blocks fails the test instead of hanging it.
class watchdog {
 public:
  explicit watchdog(unsigned seconds) { ::alarm(seconds); }
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;
  ~watchdog() { ::alarm(0); }
};

}  // namespace test
