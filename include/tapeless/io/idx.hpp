/// @file
/// @brief Reading IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or plain.
///
/// Every problem is an `idx_error` whose message names the file and what is wrong: a file that
/// cannot be opened, a wrong magic number, a wrong element type or number of dimensions,
/// unexpected dimensions, a truncated file, trailing bytes, a label out of range. Nothing is
/// returned from a file that fails a check.
///
/// Needs zlib (Debian zlib1g-dev; link ZLIB::ZLIB), which reads plain files too.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

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

/// Reads an IDX file of unsigned bytes with `expected_rank` dimensions.
inline IdxData read_idx(const std::string& path, std::uint32_t expected_rank) {
  auto fail = [&](const std::string& what) { return idx_error("tapeless: " + path + ": " + what); };
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), gzclose);
  if (!file) throw fail("cannot open the file");
  auto read = [&](void* out, std::size_t n) -> std::size_t {
    std::size_t done = 0;
    while (done < n) {
      const int got = gzread(file.get(), static_cast<char*>(out) + done, static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30)));
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
  for (std::uint32_t i = 0; i < expected_rank; ++i) {
    if (read(word.data(), 4) != 4) throw fail("truncated in the header (dimension " + std::to_string(i) + ")");
    out.dims.push_back(be32(word));
    total *= out.dims.back();
  }
  if (total > (std::uint64_t{1} << 32)) throw fail("declares " + std::to_string(total) + " bytes of data: too large");
  out.bytes.resize(static_cast<std::size_t>(total));
  const std::size_t got = read(out.bytes.data(), out.bytes.size());
  if (got != out.bytes.size())
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
    throw idx_error("tapeless: " + path + ": images are " + std::to_string(d.dims[1]) + "x" + std::to_string(d.dims[2]) +
                    ", expected " + std::to_string(rows) + "x" + std::to_string(cols));
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
