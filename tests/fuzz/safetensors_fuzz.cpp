// libFuzzer harness for the safetensors reader and loader. For any bytes:
// - parsing either throws safetensors_error or gives a file whose every tensor lies inside its
//   data, whose byte size (shape product times dtype size) did not overflow, and whose values()
//   can be read without any exception;
// - loading into a float network either throws safetensors_error and leaves the network bit for
//   bit as it was, or succeeds with every weight finite (the default options);
// - nothing else is ever thrown.
// Built with clang++ -fsanitize=fuzzer,address,undefined (tests/fuzz/run safetensors); the corpus
// in tests/fuzz/corpus/ is replayed by ctest (replay.cpp) in every build.
#include "tapeless/io/safetensors.hpp"
#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"

#include <cstdint>
#include <cstdlib>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tapeless;
  using Net = Network<Sequential<Linear<4, 8>, ReLU, Linear<8, 3>>>;
  const std::vector<unsigned char> bytes(data, data + size);
  static Net net(1);
  static const Net::vector_type reference = net.values();
  try {
    const Safetensors file = parse_safetensors(bytes, "fuzz");
    for (const auto& t : file.tensors) {
      if (t.end > file.data.size() || t.begin > t.end) std::abort();  // validation let a bad tensor through
      std::uint64_t bytes_needed = detail::dtype_size(t.dtype);
      for (auto d : t.shape)
        if (__builtin_mul_overflow(bytes_needed, d, &bytes_needed)) std::abort();  // an overflowing shape passed
      if (bytes_needed != t.end - t.begin) std::abort();
      if (file.values(t).size() != t.count()) std::abort();  // values() must never throw on a parsed file
    }
    try {
      load_safetensors(net, file, "fuzz");
      if (!detail::all_finite(net.values())) std::abort();  // a default load let a non-finite weight in
      net.values() = reference;
    } catch (const safetensors_error&) {
      if (!(net.values().array() == reference.array()).all()) std::abort();  // a failed load changed the net
    }
  } catch (const safetensors_error&) {
  }
  return 0;
}
