// libFuzzer harness for the IDX reader (plain or gzip). For any file content, read_idx either
// throws idx_error or returns data whose size is the product of its dimensions and within the
// cap; nothing else is thrown (no bad_alloc, no length_error). The cap is 1 MiB here so that a
// lying header cannot make the fuzzer itself run out of memory. Built by tests/fuzz/run idx; its
// corpus, tests/fuzz/corpus_idx, is replayed by ctest.
#include "tapeless/io/idx.hpp"

#include "support/scratch.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tapeless;
  static const std::string path = test::scratch_path("idx_fuzz");  // the reader takes a path
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();
    if (size && std::fwrite(data, 1, size, f) != size) std::abort();
    std::fclose(f);
  }
  constexpr std::uint64_t cap = std::uint64_t{1} << 20;
  for (std::uint32_t rank : {1u, 3u}) {
    try {
      const IdxData d = read_idx(path, rank, cap);
      std::uint64_t total = 1;
      for (auto n : d.dims) total *= n;
      if (d.dims.size() != rank || total != d.bytes.size() || total > cap) std::abort();
    } catch (const idx_error&) {
    }
  }
  return 0;
}
