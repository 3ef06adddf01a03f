// A downstream project using io/ through tapeless::io alone: a safetensors round trip and a
// gzip IDX read (zlib) of a file that does not exist, refused by name.
#include <string>
#include <tapeless/io/idx.hpp>
#include <tapeless/io/safetensors.hpp>
#include <tapeless/tapeless.hpp>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  using Net = tapeless::Network<tapeless::Sequential<tapeless::Linear<2, 3>>, double>;
  Net a(1), b(2);
  const std::string path = std::string(argv[1]) + "/model.safetensors";
  tapeless::save_safetensors(a, path);
  tapeless::load_safetensors(b, path);
  if (a.values() != b.values()) return 1;
  try {
    tapeless::read_idx_labels(std::string(argv[1]) + "/missing-labels-idx1-ubyte.gz", 10);
    return 1;
  } catch (const tapeless::idx_error&) {
  }
  return 0;
}
