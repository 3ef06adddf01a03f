/// @file
/// @brief Reading IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or plain.
///
/// Every problem is an `idx_error` whose message names the file and what is wrong: a file that
/// cannot be opened or is not a regular file, a declared size over the limit, a wrong magic number, a wrong element
/// type or number of dimensions, unexpected dimensions, a truncated file, trailing bytes, a label out of range. Nothing
/// is returned from a file that fails a check.
///
/// Needs zlib (Debian zlib1g-dev; link ZLIB::ZLIB), which reads plain files too.
#pragma once

#include "tapeless/io/file.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>
#include <zlib.h>

namespace tapeless {

class idx_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An IDX file of unsigned bytes: its dimensions and its data, in file order.
struct IdxData {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> bytes;
};

namespace detail {
inline std::string hex32(std::uint32_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s += digits[(v >> shift) & 0xf];
  return s;
}
}  // namespace detail

/// The most data read_idx accepts by default: 1 GiB (Fashion-MNIST's training images are 47 MB).
inline constexpr std::uint64_t max_idx_bytes = std::uint64_t{1} << 30;

/// Reads an IDX file of unsigned bytes with `expected_rank` dimensions, gzip-compressed or
/// plain. The file must be a regular file (opened without blocking, io/file.hpp). The declared
/// size is computed without overflow and must not exceed `max_bytes`; a plain file's must match
/// the file's size before anything is allocated, and a compressed file's data is allocated as it
/// is decompressed, so a small file that declares a huge size costs no memory.
inline IdxData read_idx(const std::string& path, std::uint32_t expected_rank, std::uint64_t max_bytes = max_idx_bytes) {
  auto fail = [&](const std::string& what) { return idx_error("tapeless: " + path + ": " + what); };
  std::uint64_t file_size = 0;
  detail::unique_fd fd = detail::open_regular_file(path, ~std::uint64_t{0}, file_size, fail);
  unsigned char sniff[2] = {0, 0};
  const bool gzip = ::pread(fd.get(), sniff, 2, 0) == 2 && sniff[0] == 0x1f && sniff[1] == 0x8b;
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzdopen(fd.get(), "rb"), gzclose);
  if (!file) throw fail("cannot read the file");
  (void)fd.release();  // gzclose closes it
  auto read = [&](void* out, std::size_t n) -> std::size_t {
    std::size_t done = 0;
    while (done < n) {
      const int got = gzread(file.get(), static_cast<char*>(out) + done,
                             static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30)));
      if (got < 0) {
        int code = 0;
        throw fail(std::string("unreadable (") + gzerror(file.get(), &code) + ")");
      }
      if (got == 0) break;
      done += static_cast<std::size_t>(got);
    }
    return done;
  };
  auto be32 = [](const std::array<std::uint8_t, 4>& b) {
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
  };
  std::array<std::uint8_t, 4> word{};
  if (read(word.data(), 4) != 4) throw fail("truncated: the 4-byte magic number is missing");
  const std::uint32_t magic = be32(word);
  if (word[0] != 0 || word[1] != 0)
    throw fail("not an IDX file: magic number " + detail::hex32(magic) + " does not start with two zero bytes");
  if (word[2] != 0x08)
    throw fail("element type " + detail::hex32(word[2]) + " is not unsigned byte (0x08) in magic number " +
               detail::hex32(magic));
  if (word[3] != expected_rank)
    throw fail("has " + std::to_string(word[3]) + " dimensions, expected " + std::to_string(expected_rank) +
               " (magic number " + detail::hex32(magic) + ")");
  IdxData out;
  std::uint64_t total = 1;
  bool overflow = false;
  for (std::uint32_t i = 0; i < expected_rank; ++i) {
    if (read(word.data(), 4) != 4) throw fail("truncated in the header (dimension " + std::to_string(i) + ")");
    out.dims.push_back(be32(word));
    overflow = overflow || __builtin_mul_overflow(total, std::uint64_t{out.dims.back()}, &total);
  }
  std::string dims;
  for (std::size_t i = 0; i < out.dims.size(); ++i) {
    if (i) dims += 'x';
    dims += std::to_string(out.dims[i]);
  }
  if (overflow || total > max_bytes)
    throw fail("declares " + dims + " = " + (overflow ? std::string("more than 2^64") : std::to_string(total)) +
               " bytes of data, over the limit of " + std::to_string(max_bytes));
  const std::uint64_t header = 4 + 4 * std::uint64_t{expected_rank};
  if (!gzip && file_size - header != total)
    throw fail(file_size - header < total
                   ? "truncated: the header declares " + std::to_string(total) + " bytes of data, the file has " +
                         std::to_string(file_size - header)
                   : "has data beyond the " + std::to_string(total) + " bytes its header declares");
  // allocated as the data arrives (a compressed file's declared size is only a claim)
  constexpr std::size_t chunk = std::size_t{1} << 24;
  std::size_t got = 0;
  while (got < total) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(total - got, chunk));
    out.bytes.resize(got + want);
    const std::size_t n = read(out.bytes.data() + got, want);
    got += n;
    if (n < want) break;
  }
  if (got != total)
    throw fail("truncated: the header declares " + std::to_string(total) + " bytes of data, the file has " +
               std::to_string(got));
  char extra = 0;
  if (read(&extra, 1) != 0) throw fail("has data beyond the " + std::to_string(total) + " bytes its header declares");
  return out;
}

/// Images: an IDX file of rank 3 (count x rows x cols) whose images are rows x cols.
inline IdxData read_idx_images(const std::string& path, std::uint32_t rows, std::uint32_t cols) {
  IdxData d = read_idx(path, 3);
  if (d.dims[1] != rows || d.dims[2] != cols)
    throw idx_error("tapeless: " + path + ": images are " + std::to_string(d.dims[1]) + "x" +
                    std::to_string(d.dims[2]) + ", expected " + std::to_string(rows) + "x" + std::to_string(cols));
  return d;
}

/// Labels: an IDX file of rank 1, each label below `classes`.
inline IdxData read_idx_labels(const std::string& path, std::uint32_t classes) {
  IdxData d = read_idx(path, 1);
  for (std::size_t i = 0; i < d.bytes.size(); ++i)
    if (d.bytes[i] >= classes)
      throw idx_error("tapeless: " + path + ": label " + std::to_string(d.bytes[i]) + " at index " + std::to_string(i) +
                      " is out of range 0.." + std::to_string(classes - 1));
  return d;
}

}  // namespace tapeless
