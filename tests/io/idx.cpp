// io/idx.hpp: good files (plain and gzip) and every kind of bad file, made by hand; each error
// names the file and the problem.
#define BOOST_TEST_MODULE io_idx
#include "tapeless/io/idx.hpp"

#include "support/hostile.hpp"
#include "support/scratch.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>
#include <zlib.h>

using namespace tapeless;
using Bytes = std::vector<std::uint8_t>;

namespace {
std::string scratch(const std::string& name) { return test::scratch_path("idx_" + name); }
std::string write_plain(const std::string& name, const Bytes& b) {
  const std::string path = scratch(name);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  return path;
}
std::string write_gz(const std::string& name, const Bytes& b) {
  const std::string path = scratch(name + ".gz");
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, b.data(), static_cast<unsigned>(b.size()));
  gzclose(f);
  return path;
}
void be32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}
// An images file: count x 2 x 3.
Bytes images(std::uint32_t count, std::uint8_t type = 0x08, std::uint8_t rank = 3) {
  Bytes b{0, 0, type, rank};
  be32(b, count);
  be32(b, 2);
  be32(b, 3);
  for (std::uint32_t i = 0; i < count * 6; ++i) b.push_back(static_cast<std::uint8_t>(i));
  return b;
}
Bytes labels(const Bytes& values) {
  Bytes b{0, 0, 8, 1};
  be32(b, static_cast<std::uint32_t>(values.size()));
  b.insert(b.end(), values.begin(), values.end());
  return b;
}
// The message of the idx_error that `f` throws ("" if it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const idx_error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

BOOST_AUTO_TEST_CASE(good_files_plain_and_gzip) {
  for (const auto& path : {write_plain("ok", images(2)), write_gz("ok", images(2))}) {
    const IdxData d = read_idx_images(path, 2, 3);
    BOOST_TEST((d.dims == std::vector<std::uint32_t>{2, 2, 3}));
    BOOST_TEST(d.bytes.size() == 12u);
    BOOST_TEST(d.bytes[11] == 11);
  }
  const IdxData l = read_idx_labels(write_gz("labels", labels({1, 9, 0})), 10);
  BOOST_TEST((l.bytes == Bytes{1, 9, 0}));
}

BOOST_AUTO_TEST_CASE(each_bad_file_names_its_problem) {
  const std::string missing = scratch("does_not_exist");
  BOOST_TEST(error_of([&] { read_idx_images(missing, 2, 3); }) ==
             "tapeless: " + missing + ": cannot open the file (No such file or directory)");

  const std::string magic = write_plain("magic", Bytes{0x1f, 0x00, 8, 3, 0, 0});
  BOOST_TEST(error_of([&] { read_idx_images(magic, 2, 3); }) ==
             "tapeless: " + magic + ": not an IDX file: magic number 0x1f000803 does not start with two zero bytes");

  const std::string type = write_plain("type", images(1, 0x0d));
  BOOST_TEST(error_of([&] { read_idx_images(type, 2, 3); }) ==
             "tapeless: " + type + ": element type 0x0000000d is not unsigned byte (0x08) in magic number 0x00000d03");

  const std::string rank = write_gz("rank", images(1, 0x08, 2));
  BOOST_TEST(error_of([&] { read_idx_images(rank, 2, 3); }) ==
             "tapeless: " + rank + ": has 2 dimensions, expected 3 (magic number 0x00000802)");

  const std::string dims = write_plain("dims", images(1));
  BOOST_TEST(error_of([&] { read_idx_images(dims, 28, 28); }) ==
             "tapeless: " + dims + ": images are 2x3, expected 28x28");

  Bytes cut = images(2);
  cut.resize(10);
  const std::string header = write_gz("header", cut);
  BOOST_TEST(error_of([&] { read_idx_images(header, 2, 3); }) ==
             "tapeless: " + header + ": truncated in the header (dimension 1)");

  cut = images(2);
  cut.resize(cut.size() - 5);
  const std::string data = write_gz("data", cut);
  BOOST_TEST(error_of([&] { read_idx_images(data, 2, 3); }) ==
             "tapeless: " + data + ": truncated: the header declares 12 bytes of data, the file has 7");

  Bytes extra = images(2);
  extra.push_back(0);
  const std::string trailing = write_plain("trailing", extra);
  BOOST_TEST(error_of([&] { read_idx_images(trailing, 2, 3); }) ==
             "tapeless: " + trailing + ": has data beyond the 12 bytes its header declares");

  const std::string range = write_plain("range", labels({3, 10, 1}));
  BOOST_TEST(error_of([&] { read_idx_labels(range, 10); }) ==
             "tapeless: " + range + ": label 10 at index 1 is out of range 0..9");

  const std::string empty = write_plain("empty", Bytes{});
  BOOST_TEST(error_of([&] { read_idx_labels(empty, 10); }) ==
             "tapeless: " + empty + ": truncated: the 4-byte magic number is missing");
}

BOOST_AUTO_TEST_CASE(declared_sizes_are_checked_before_anything_is_allocated) {
  // [2^31, 2^31, 4]: 2^64 bytes, which wrapped to 0 and "succeeded" with no data
  const std::string overflow = test::hostile("idx_dims_overflow.idx");
  BOOST_TEST(error_of([&] { read_idx(overflow, 3); }) ==
             "tapeless: " + overflow +
                 ": declares 2147483648x2147483648x4 = more than 2^64 bytes of data, over the limit of 1073741824");
  // 32 bytes of gzip declaring 1 x 65536 x 65536 images (4 GiB): refused, not allocated
  const std::string bomb = test::hostile("idx_gzip_claims_4gb.idx.gz");
  BOOST_TEST(error_of([&] { read_idx_images(bomb, 65536, 65536); }) ==
             "tapeless: " + bomb + ": declares 1x65536x65536 = 4294967296 bytes of data, over the limit of 1073741824");
  // under a cap of the caller's, a compressed file's data is allocated as it arrives: a 32-byte
  // file claiming 4 GiB fails as truncated, having allocated one chunk at most
  BOOST_TEST(error_of([&] { read_idx(bomb, 3, std::uint64_t{8} << 30); }) ==
             "tapeless: " + bomb + ": truncated: the header declares 4294967296 bytes of data, the file has 0");
  // a plain file's declared size is compared with the file's before reading
  const std::string plain = test::hostile("idx_plain_truncated.idx");
  BOOST_TEST(error_of([&] { read_idx_images(plain, 28, 28); }) ==
             "tapeless: " + plain + ": truncated: the header declares 784000 bytes of data, the file has 10");
}

BOOST_AUTO_TEST_CASE(only_regular_files_are_read_and_nothing_blocks) {
  const test::watchdog guard(20);
  for (const auto& special : test::non_regular_files(scratch("special"))) {
    const std::string& path = special.first;  // not a structured binding: clang 14 cannot capture those
    BOOST_TEST(error_of([&] { read_idx_images(path, 28, 28); }) == "tapeless: " + path + ": " + special.second);
  }
}
