// libFuzzer harness for the safetensors loader: any bytes must either parse into a file whose
// tensors all lie inside its data, or throw safetensors_error; loading must never half-change a
// network. Built with clang++ -fsanitize=fuzzer,address,undefined (tests/fuzz/run); the corpus
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
    for (const auto& t : file.tensors)
      if (t.end > file.data.size() || t.begin > t.end) std::abort();  // validation let a bad tensor through
    try {
      load_safetensors(net, file, "fuzz");
      net.values() = reference;
    } catch (const safetensors_error&) {
      if (!(net.values().array() == reference.array()).all()) std::abort();  // a failed load changed the net
    }
  } catch (const safetensors_error&) {
  }
  return 0;
}
