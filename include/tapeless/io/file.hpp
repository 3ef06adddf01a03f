/// @file
/// @brief Bounded reading and atomic writing of whole files (POSIX), for the model-file readers
/// and writers of io/.
///
/// Reading: the file is opened without blocking (a FIFO cannot hang the reader) and must be a
/// regular file (not a directory, a FIFO, a device such as /dev/zero, or a socket) no larger
/// than the caller's cap; exactly its size is allocated, once. Every failure names the file,
/// the problem and, where the system gave one, its reason (errno text).
///
/// Writing: a temporary file is created exclusively (mkstemp: O_EXCL with a random name, so a
/// file or symlink planted at a predictable name cannot redirect the write) in the target's
/// directory, written, flushed to disk, given the target's permissions (or the default ones
/// under the umask for a new file) and renamed over the target. A target that is a symlink is
/// followed: the file it points to is replaced and the link stays. SIGINT, SIGTERM, SIGHUP and
/// SIGQUIT are held back in the calling thread while the temporary file exists, so an interrupt
/// arrives after it is renamed or removed and never leaves it behind. On any failure the
/// temporary file is removed and the target is left as it was.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <signal.h>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace tapeless::detail {

/// "reason" for the current errno.
inline std::string errno_text(int code) { return std::generic_category().message(code); }

/// What a non-regular file is, for messages.
inline const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

/// An open file descriptor, closed on scope exit.
class unique_fd {
 public:
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  unique_fd& operator=(unique_fd&&) = delete;
  ~unique_fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  int release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

/// Opens `path` for reading without blocking and checks it is a regular file of at most
/// `max_bytes`; on failure throws fail(problem). Returns the descriptor (blocking again) and
/// stores the size.
template <class Fail>
unique_fd open_regular_file(const std::string& path, std::uint64_t max_bytes, std::uint64_t& size, Fail&& fail) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) throw fail("cannot open the file (" + errno_text(errno) + ")");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw fail("cannot inspect the file (" + errno_text(errno) + ")");
  if (!S_ISREG(st.st_mode)) throw fail(std::string("is ") + file_kind(st.st_mode) + ", not a regular file");
  size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_bytes)
    throw fail("is " + std::to_string(size) + " bytes, more than the limit of " + std::to_string(max_bytes));
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags >= 0) (void)::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

/// The whole content of a regular file of at most `max_bytes`; throws fail(problem) otherwise
/// (including a file that changes size while it is read).
template <class Fail>
std::vector<unsigned char> read_regular_file(const std::string& path, std::uint64_t max_bytes, Fail&& fail) {
  std::uint64_t size = 0;
  const unique_fd fd = open_regular_file(path, max_bytes, size, fail);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ::ssize_t got = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw fail("read failed (" + errno_text(errno) + ")");
    if (got == 0)
      throw fail("shrank while it was read (" + std::to_string(done) + " of " + std::to_string(size) + " bytes)");
    done += static_cast<std::size_t>(got);
  }
  unsigned char extra = 0;
  if (::read(fd.get(), &extra, 1) > 0) throw fail("grew while it was read");
  return bytes;
}

/// Holds back the interrupting signals in this thread for its lifetime; a signal that arrived
/// meanwhile is delivered when it ends.
class signal_hold {
 public:
  signal_hold() noexcept {
    sigset_t hold;
    sigemptyset(&hold);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&hold, s);
    active_ = ::pthread_sigmask(SIG_BLOCK, &hold, &previous_) == 0;
  }
  signal_hold(const signal_hold&) = delete;
  signal_hold& operator=(const signal_hold&) = delete;
  ~signal_hold() {
    if (active_) ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }

 private:
  sigset_t previous_{};
  bool active_ = false;
};

/// A path's directory ("." if it names none) and its last component. (POSIX calls, not
/// <filesystem>, which costs every translation unit of io/ 0.3 s of compile time.)
struct path_parts {
  std::string dir, name;
  explicit path_parts(const std::string& path) {
    const auto slash = path.rfind('/');
    dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    name = slash == std::string::npos ? path : path.substr(slash + 1);
  }
  /// `file` in `dir`.
  std::string in_dir(const std::string& file) const { return (dir == "/" ? "" : dir) + "/" + file; }
  /// `name` with `suffix` appended, in `dir`.
  std::string sibling(const std::string& suffix) const { return in_dir(name + suffix); }
};

/// `path` with its symlinks followed to the file they lead to (which need not exist), or "" and
/// errno set (ELOOP after 40 links, as the kernel counts).
inline std::string follow_symlinks(std::string path) {
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
    std::string link(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
    const ::ssize_t n = ::readlink(path.c_str(), link.data(), link.size());
    if (n < 0) return "";
    if (n == 0) {  // no target (Linux makes none such; other systems might)
      errno = ENOENT;
      return "";
    }
    if (static_cast<std::size_t>(n) == link.size()) {  // changed since lstat: too long to trust
      errno = ENAMETOOLONG;
      return "";
    }
    link.resize(static_cast<std::size_t>(n));
    // a relative target is relative to the link's directory
    path = link.front() != '/' && path.find('/') != std::string::npos ? path_parts(path).in_dir(link) : link;
  }
  errno = ELOOP;
  return "";
}

/// Writes the concatenation of `parts` to `path` atomically (see the file comment). Throws
/// fail(problem); the problem says the previous file is unchanged.
template <class Fail>
void write_file_atomically(const std::string& path, const std::vector<std::string_view>& parts, Fail&& fail) {
  const std::string target = follow_symlinks(path);
  if (target.empty()) throw fail("cannot resolve the symlink (" + errno_text(errno) + ")");
  const path_parts where(target);
  const std::string& dir = where.dir;
  std::string tmp = where.sibling(".tmp-XXXXXX");
  const signal_hold hold;  // no interrupt between creating the temporary file and removing or renaming it
  unique_fd fd(::mkstemp(tmp.data()));
  if (fd.get() < 0) throw fail("cannot create a temporary file in " + dir + " (" + errno_text(errno) + ")");
  ::fcntl(fd.get(), F_SETFD, FD_CLOEXEC);
  auto failed = [&](const std::string& what) {
    ::unlink(tmp.c_str());
    return fail(what);
  };
  // the target's permissions if it exists, else the default ones under the umask
  struct stat st {};
  mode_t mode = 0;
  if (::stat(target.c_str(), &st) == 0) {
    mode = st.st_mode & 07777;
  } else {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    mode = 0666 & ~mask;
  }
  for (std::string_view part : parts) {
    std::size_t done = 0;
    while (done < part.size()) {
      const ::ssize_t put = ::write(fd.get(), part.data() + done, part.size() - done);
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) throw failed("writing " + tmp + " failed (" + errno_text(errno) + ")");
      done += static_cast<std::size_t>(put);
    }
  }
  if (::fchmod(fd.get(), mode) != 0)
    throw failed("setting the permissions of " + tmp + " failed (" + errno_text(errno) + ")");
  if (::fsync(fd.get()) != 0) throw failed("flushing " + tmp + " to disk failed (" + errno_text(errno) + ")");
  if (::close(fd.release()) != 0) throw failed("closing " + tmp + " failed (" + errno_text(errno) + ")");
  if (::rename(tmp.c_str(), target.c_str()) != 0)
    throw failed("renaming " + tmp + " to " + target + " failed (" + errno_text(errno) + ")");
}

/// Throws fail(problem) unless a file can be created in `path`'s directory now (the check a
/// long job makes before it starts, so that its result is not lost at the end).
template <class Fail>
void check_writable(const std::string& path, Fail&& fail) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw fail("is a directory");
    if (!S_ISREG(st.st_mode)) throw fail("exists and is not a regular file");
  }
  const path_parts where(path);
  std::string probe = where.sibling(".tmp-XXXXXX");
  const signal_hold hold;
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) throw fail("cannot create a file in " + where.dir + " (" + errno_text(errno) + ")");
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace tapeless::detail
