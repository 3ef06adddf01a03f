/// @file
/// @brief safetensors files: strict reading, atomic writing, and networks in PyTorch's layout.
///
/// The format (huggingface/safetensors): 8 bytes little-endian header length N, N bytes of JSON
/// `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`,
/// then the data, row-major little-endian, fully covered by the tensors without overlap.
///
/// A network's parameter is stored as its role says (layers/layer.hpp, `ParameterRole`): a weight
/// (In x Out here, x W) as PyTorch's `nn.Linear` keeps it, [Out, In], a bias (1 x Out) as [Out],
/// whatever the widths (a `Linear<1, N>` weight is [N, 1]); the names are those of the equivalent
/// `torch.nn.Sequential`'s state_dict, and a map can rename them. Loading checks every tensor
/// (presence, extra tensors, dtype, shape, offsets, finiteness) into a staging copy and only then
/// writes the network: a failed load leaves the network untouched.
///
/// A saved network records its architecture in the metadata, `tapeless.architecture`
/// (`Network::architecture()`: "Sequential(Linear(4, 8), Tanh, Linear(8, 3))"), and a load into a
/// network of another architecture is refused, naming both, even when every shape fits (Tanh
/// saved, ReLU loaded): `LoadOptions::check_architecture = false` loads it anyway. Files without
/// the key (PyTorch's) are checked by names and shapes only. Saving writes a temporary
/// file in the same directory, flushes it to disk and renames it over the target: a failed or
/// interrupted save leaves the previous file as it was.
///
/// The header's JSON is read and written by io/json.hpp (no JSON library: bench/analysis.md,
/// stop 33).
#pragma once

#include "tapeless/detail/finite.hpp"
#include "tapeless/detail/float16.hpp"
#include "tapeless/io/file.hpp"
#include "tapeless/io/json.hpp"
#include "tapeless/network/network.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace tapeless {

class safetensors_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One tensor of a safetensors file.
struct SafetensorsTensor {
  std::string name;
  std::string dtype;  ///< "F16", "BF16", "F32" or "F64"
  std::vector<std::uint64_t> shape;
  std::uint64_t begin = 0;  ///< byte offsets into the data
  std::uint64_t end = 0;
  /// The number of values (the product of the shape; a parsed file guarantees it does not overflow).
  std::uint64_t count() const {
    std::uint64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

/// A parsed and validated safetensors file.
struct Safetensors {
  std::vector<SafetensorsTensor> tensors;  ///< in data order
  std::map<std::string, std::string> metadata;
  std::vector<unsigned char> data;

  const SafetensorsTensor* find(std::string_view name) const {
    for (const auto& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }

  /// A tensor's values in file (row-major) order, converted to double.
  std::vector<double> values(const SafetensorsTensor& t) const {
    std::vector<double> out(static_cast<std::size_t>(t.count()));
    const unsigned char* p = data.data() + t.begin;
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (t.dtype == "F64")
        out[i] = load<double>(p + 8 * i);
      else if (t.dtype == "F32")
        out[i] = load<float>(p + 4 * i);
      else if (t.dtype == "F16")
        out[i] = detail::half_bits_to_float(load<std::uint16_t>(p + 2 * i));
      else
        out[i] = detail::bfloat16_bits_to_float(load<std::uint16_t>(p + 2 * i));
    }
    return out;
  }

 private:
  template <class T>
  static T load(const unsigned char* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));  // little-endian, as the host (x86-64, aarch64)
    return v;
  }
};

namespace detail {
inline std::size_t dtype_size(const std::string& d) {
  if (d == "F64") return 8;
  if (d == "F32") return 4;
  if (d == "F16" || d == "BF16") return 2;
  return 0;
}
inline std::string shape_string(const std::vector<std::uint64_t>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}
}  // namespace detail

/// The largest header a reader accepts: 100 MB, as the format's reference implementation.
inline constexpr std::uint64_t max_safetensors_header = 100'000'000;

namespace detail {
/// a * b, or false if it overflows 64 bits.
inline bool multiply(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}

/// A tensor name: non-empty dotted parts ("0.weight", "optimizer.m"), no control characters.
inline bool valid_tensor_name(const std::string& name) {
  if (name.empty() || name.front() == '.' || name.back() == '.' || name.find("..") != std::string::npos) return false;
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}
}  // namespace detail

namespace detail {
/// A header's problem, without the file's name (parse_safetensors and write_safetensors add it).
class bad_header : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The index of the first tensor (in file order) whose name repeats an earlier one, or
/// tensors.size(). Sorted, not compared pairwise: a 100 MB header holds millions of names.
inline std::size_t repeated_name(const std::vector<SafetensorsTensor>& tensors) {
  std::vector<std::size_t> order(tensors.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const int c = tensors[a].name.compare(tensors[b].name);
    return c < 0 || (c == 0 && a < b);
  });
  std::size_t first = tensors.size();
  for (std::size_t i = 1; i < order.size(); ++i)
    if (tensors[order[i]].name == tensors[order[i - 1]].name) first = std::min(first, order[i]);
  return first;
}

/// `%g` of a value, for messages.
inline std::string short_number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

/// One tensor's entry (the reader is at its value): dtype, shape and data_offsets, each once;
/// other members are skipped. Throws bad_header or json::json_error.
inline SafetensorsTensor read_tensor(json::Reader& in, std::string name, std::uint64_t data_size) {
  auto bad = [&](const std::string& what) { return bad_header("tensor '" + name + "': " + what); };
  if (!valid_tensor_name(name)) throw bad("is not a valid tensor name (non-empty dotted parts, no control characters)");
  if (in.peek() != '{') throw bad("needs dtype, shape and data_offsets");
  SafetensorsTensor t;
  bool has_dtype = false, has_shape = false, has_offsets = false;
  auto once = [&](bool& seen, const std::string& key) {
    if (seen) throw bad("names '" + key + "' twice");
    seen = true;
  };
  auto read_unsigned = [&](const char* what) {
    if (!in.at_number()) throw bad(what);
    const json::Number n = in.number();
    if (!n.is_unsigned) throw bad(what);
    return n.value;
  };
  if (in.begin_object()) do {
      const std::string key = in.key();
      if (key == "dtype") {
        once(has_dtype, key);
        if (in.peek() != '"') throw bad("dtype is not a string");
        t.dtype = in.string();
        if (dtype_size(t.dtype) == 0) throw bad("dtype " + t.dtype + " is not supported (F16, BF16, F32, F64)");
      } else if (key == "shape") {
        once(has_shape, key);
        if (in.peek() != '[') throw bad("shape is not an array");
        if (in.begin_array()) do
            t.shape.push_back(read_unsigned("shape holds a value that is not a non-negative integer"));
          while (in.next_element());
      } else if (key == "data_offsets") {
        once(has_offsets, key);
        const char* what = "data_offsets is not a pair of non-negative integers";
        if (in.peek() != '[' || !in.begin_array()) throw bad(what);
        t.begin = read_unsigned(what);
        if (!in.next_element()) throw bad(what);
        t.end = read_unsigned(what);
        if (in.next_element()) throw bad(what);
      } else {
        in.skip_value(3);
      }
    } while (in.next_member());
  if (!has_dtype || !has_shape || !has_offsets) throw bad("needs dtype, shape and data_offsets");
  std::uint64_t need = dtype_size(t.dtype);
  std::vector<std::uint64_t> prefix;
  for (const std::uint64_t d : t.shape) {
    prefix.push_back(d);
    if (!multiply(need, d, need))
      throw bad("shape " + shape_string(prefix) + "... of " + t.dtype + " overflows 64 bits of bytes");
  }
  if (t.begin > t.end || t.end > data_size)
    throw bad("data offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "] lie outside the " +
              std::to_string(data_size) + " bytes of data");
  if (t.end - t.begin != need)
    throw bad("shape " + shape_string(t.shape) + " of " + t.dtype + " needs " + std::to_string(need) +
              " bytes, its offsets hold " + std::to_string(t.end - t.begin));
  t.name = std::move(name);
  return t;
}

/// The tensors and metadata of a header's JSON text, checked against `data_size` bytes of data
/// (see parse_safetensors). Throws json::json_error if the text is not JSON, else bad_header.
inline void read_header(std::string_view text, std::uint64_t data_size, Safetensors& out);

/// read_header's work, which may find a problem of content before one of syntax further on.
inline void read_header_entries(std::string_view text, std::uint64_t data_size, Safetensors& out) {
  json::Reader in(text);
  if (in.peek() != '{') throw bad_header("the header is not a JSON object");
  int metadata = 0;
  if (in.begin_object()) do {
      std::string name = in.key();
      if (name != "__metadata__") {
        out.tensors.push_back(read_tensor(in, std::move(name), data_size));
        continue;
      }
      if (++metadata > 1) throw bad_header("the header names '__metadata__' twice");
      if (in.peek() != '{') throw bad_header("__metadata__ is not an object");
      if (in.begin_object()) do {
          std::string key = in.key();
          if (in.peek() != '"') throw bad_header("__metadata__ value '" + key + "' is not a string");
          std::string value = in.string();
          if (!out.metadata.emplace(key, std::move(value)).second)
            throw bad_header("__metadata__ names '" + key + "' twice");
        } while (in.next_member());
    } while (in.next_member());
  in.finish();
  if (const auto i = repeated_name(out.tensors); i != out.tensors.size())
    throw bad_header("the header names '" + out.tensors[i].name + "' twice");
  std::sort(out.tensors.begin(), out.tensors.end(), [](const auto& a, const auto& b) { return a.begin < b.begin; });
  std::uint64_t covered = 0;
  for (std::size_t i = 0; i < out.tensors.size(); ++i) {
    const auto& t = out.tensors[i];
    if (t.begin < covered)
      throw bad_header("tensors '" + out.tensors[i - 1].name + "' and '" + t.name + "' overlap in the data");
    if (t.begin > covered)
      throw bad_header("bytes " + std::to_string(covered) + ".." + std::to_string(t.begin) +
                       " of the data belong to no tensor");
    covered = t.end;
  }
  if (covered != data_size)
    throw bad_header("bytes " + std::to_string(covered) + ".." + std::to_string(data_size) +
                     " of the data belong to no tensor");
}

inline void read_header(std::string_view text, std::uint64_t data_size, Safetensors& out) {
  try {
    read_header_entries(text, data_size, out);
  } catch (const bad_header&) {
    json::Reader all(text);  // text that is not JSON is named so, whatever else is wrong with it
    all.skip_value(1);
    all.finish();
    throw;
  }
}

/// The header of `file` as written: compact JSON, keys in byte order (the tensors' fields too),
/// "__metadata__" only if there is metadata, padded with spaces to a multiple of 8 bytes as the
/// reference writer pads it. Throws json::json_error for a name or value that is not UTF-8.
inline std::string header_text(const Safetensors& file) {
  std::vector<std::pair<std::string, std::string>> entries;  // key, its value's JSON
  entries.reserve(file.tensors.size() + 1);
  for (const SafetensorsTensor& t : file.tensors) {
    // appended piece by piece: g++ 12 warns (-Wrestrict, a false positive) on "," + std::string
    std::string v = "{\"data_offsets\":[";
    v += std::to_string(t.begin);
    v += ',';
    v += std::to_string(t.end);
    v += "],\"dtype\":";
    json::write_string(v, t.dtype);
    v += ",\"shape\":[";
    for (std::size_t i = 0; i < t.shape.size(); ++i) {
      if (i) v += ',';
      v += std::to_string(t.shape[i]);
    }
    v += "]}";
    entries.emplace_back(t.name, std::move(v));
  }
  if (!file.metadata.empty()) {
    std::string v = "{";
    for (const auto& [key, value] : file.metadata) {
      if (v.size() > 1) v += ',';
      json::write_string(v, key);
      v += ':';
      json::write_string(v, value);
    }
    entries.emplace_back("__metadata__", v + "}");
  }
  std::sort(entries.begin(), entries.end());
  std::string text = "{";
  for (const auto& [key, value] : entries) {
    if (text.size() > 1) text += ',';
    json::write_string(text, key);
    text += ':';
    text += value;
  }
  text += '}';
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}
}  // namespace detail

/// Parses and validates the bytes of a safetensors file; throws safetensors_error naming
/// `source` (the file) and the problem. Besides the offsets, it refuses a header over 100 MB, a
/// header that is not exactly one JSON object followed by space padding (a NUL byte or trailing
/// text) or that nests deeper than 64 levels, a key repeated in any object, malformed tensor
/// names, and shapes whose byte size overflows 64 bits; so `values()` of every tensor of a
/// parsed file is bounded by the file's size.
inline Safetensors parse_safetensors(const std::vector<unsigned char>& bytes, const std::string& source) {
  auto fail = [&](const std::string& what) { return safetensors_error("tapeless: " + source + ": " + what); };
  if (bytes.size() < 8)
    throw fail("truncated: the 8-byte header length is missing (the file has " + std::to_string(bytes.size()) +
               " bytes)");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[static_cast<std::size_t>(i)];
  if (n > bytes.size() - 8)
    throw fail("header length " + std::to_string(n) + " is larger than the rest of the file (" +
               std::to_string(bytes.size() - 8) + " bytes)");
  if (n > max_safetensors_header)
    throw fail("header length " + std::to_string(n) + " is over the limit of " +
               std::to_string(max_safetensors_header) + " bytes");
  const auto header_begin = bytes.begin() + 8;
  auto header_end = header_begin + static_cast<std::ptrdiff_t>(n);
  if (const auto nul = std::find(header_begin, header_end, 0); nul != header_end)
    throw fail("the header holds a NUL byte at offset " + std::to_string(nul - header_begin));
  while (header_end != header_begin && *(header_end - 1) == ' ') --header_end;  // the format's padding
  if (header_begin == header_end || *header_begin != '{') throw fail("the header does not start with a JSON object");
  Safetensors out;
  try {
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()) + 8,
                                static_cast<std::size_t>(header_end - header_begin));
    detail::read_header(text, bytes.size() - 8 - n, out);
  } catch (const detail::json::json_error& e) {
    throw fail(std::string("the header is not valid JSON (") + e.what() + ")");
  } catch (const detail::bad_header& e) {
    throw fail(e.what());
  }
  out.data.assign(bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n), bytes.end());
  return out;
}

/// The largest file read_safetensors reads by default: 16 GiB.
inline constexpr std::uint64_t max_safetensors_file = std::uint64_t{16} << 30;

/// Reads and validates a whole safetensors file (a regular file of at most `max_bytes`, read
/// without blocking: see io/file.hpp); throws safetensors_error naming the file and the problem.
inline Safetensors read_safetensors(const std::string& path, std::uint64_t max_bytes = max_safetensors_file) {
  auto fail = [&](const std::string& what) { return safetensors_error("tapeless: " + path + ": " + what); };
  return parse_safetensors(detail::read_regular_file(path, max_bytes, fail), path);
}

namespace detail {
/// The error of a write that failed or was refused: `path` as it was.
inline safetensors_error unwritten(const std::string& path, const std::string& what) {
  return safetensors_error("tapeless: " + path + ": " + what + "; the previous file, if any, is unchanged");
}
}  // namespace detail

/// Writes `file` (its tensors, metadata and data) as a safetensors file, atomically (io/file.hpp:
/// an exclusively created temporary file in the same directory, flushed to disk, given the
/// target's permissions and renamed over it; a symlinked target is followed). What is written
/// is what parse_safetensors accepts: a file it would refuse (overlapping or uncovered data, a
/// repeated or malformed name, a name or metadata that is not UTF-8) is not written. On any
/// failure the temporary file is removed, `path` is left as it was, and safetensors_error is
/// thrown naming the problem (and the system's reason).
inline void write_safetensors(const std::string& path, const Safetensors& file) {
  auto fail = [&](const std::string& what) { return detail::unwritten(path, what); };
  std::string text;
  try {
    text = detail::header_text(file);
    Safetensors check;  // the header as a reader sees it
    detail::read_header(text, file.data.size(), check);
  } catch (const detail::json::json_error& e) {
    throw fail(std::string("not written: a name or metadata is not valid UTF-8 (") + e.what() + ")");
  } catch (const detail::bad_header& e) {
    throw fail(std::string("not written: ") + e.what());
  }
  char length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<char>(static_cast<std::uint64_t>(text.size()) >> (8 * i));
  detail::write_file_atomically(path,
                                {std::string_view(length, 8), text,
                                 std::string_view(reinterpret_cast<const char*>(file.data.data()), file.data.size())},
                                fail);
}

/// Options of load_safetensors.
struct LoadOptions {
  bool allow_non_finite = false;  ///< accept NaN/Inf values instead of refusing the file
  /// Our parameter name -> the file's tensor name. A name the network has no parameter of, or two
  /// parameters given one tensor, is refused.
  std::map<std::string, std::string> names{};
  bool check_architecture = true;  ///< refuse a file saved from another architecture
};

/// The metadata key under which a saved network's architecture is recorded.
inline constexpr const char* architecture_key = "tapeless.architecture";

namespace detail {
// The file layout of a parameter, by its role: PyTorch's [Out, In] for an In x Out weight (our
// column-major buffer read in order is exactly that row-major transpose), [N] for a 1 x N bias.
inline std::vector<std::uint64_t> torch_shape(const ParameterInfo& p) {
  switch (p.role) {
    case ParameterRole::bias:
      return {static_cast<std::uint64_t>(p.rows * p.cols)};
    case ParameterRole::weight:
      break;
  }
  return {static_cast<std::uint64_t>(p.cols), static_cast<std::uint64_t>(p.rows)};
}
inline std::string file_name(const ParameterInfo& p, const std::map<std::string, std::string>& names) {
  const auto it = names.find(p.name);
  return it == names.end() ? p.name : it->second;
}
/// What is wrong with a map from the network's parameter names to a file's (empty if nothing): a
/// name the network has no parameter of (a typo would be ignored), or two parameters mapped to
/// one tensor (a load would copy one tensor into both).
inline std::string name_map_problem(const std::vector<ParameterInfo>& parameters,
                                    const std::map<std::string, std::string>& names) {
  for (const auto& entry : names)
    if (std::none_of(parameters.begin(), parameters.end(),
                     [&](const ParameterInfo& p) { return p.name == entry.first; }))
      return "the names map has '" + entry.first + "', which is not a parameter of the network";
  std::map<std::string, const std::string*> owner;  // a file's name -> the parameter mapped to it
  for (const ParameterInfo& p : parameters) {
    const auto [it, fresh] = owner.emplace(file_name(p, names), &p.name);
    if (!fresh) return "the names map gives '" + *it->second + "' and '" + p.name + "' one tensor, '" + it->first + "'";
  }
  return {};
}
}  // namespace detail

namespace detail {
/// The safetensors entries of a network's parameters (PyTorch layout, `dtype`), with data
/// offsets into its values buffer, which is written first and as is: a column-major In x Out
/// weight read in order is its transpose, row-major [Out, In].
template <class Net>
std::vector<SafetensorsTensor> parameter_tensors(const Net& net, const std::map<std::string, std::string>& names,
                                                 const std::string& dtype) {
  using S = typename Net::scalar_type;
  static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>, "safetensors: float or double networks");
  const std::uint64_t size = dtype_size(dtype);
  std::vector<SafetensorsTensor> tensors;
  for (const ParameterInfo& p : net.parameters()) {
    const auto begin = static_cast<std::uint64_t>(p.offset) * size;
    tensors.push_back({file_name(p, names), dtype, torch_shape(p), begin,
                       begin + static_cast<std::uint64_t>(p.rows * p.cols) * size});
  }
  return tensors;
}

/// The bytes of `v` appended to `data`.
template <class V>
void append_bytes(std::vector<unsigned char>& data, const V& v) {
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  data.insert(data.end(), p, p + static_cast<std::size_t>(v.size()) * sizeof(typename V::Scalar));
}
}  // namespace detail

namespace detail {
/// Converts file values to S into `out`, refusing (unless `allow_non_finite`) a value that is not
/// finite, before or after the conversion: an F64 value beyond float's range would become +-inf.
/// (Checked before the cast, which is undefined behaviour for an out-of-range value.)
template <class S, class Fail>
void convert_checked(const std::vector<double>& v, S* out, bool allow_non_finite, Fail&& fail) {
  constexpr double largest = static_cast<double>(std::numeric_limits<S>::max());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!allow_non_finite && !std::isfinite(v[i]))
      throw fail("has a non-finite value (" + std::to_string(v[i]) + ") at flat index " + std::to_string(i) +
                 "; refused (LoadOptions::allow_non_finite accepts it)");
    if (!allow_non_finite && std::abs(v[i]) > largest) {
      throw fail("has a value (" + short_number(v[i]) + ") at flat index " + std::to_string(i) +
                 " outside the range of the network's scalar type; refused (LoadOptions::allow_non_finite accepts it "
                 "as infinity)");
    }
    out[i] = std::abs(v[i]) > largest ? static_cast<S>(std::copysign(HUGE_VAL, v[i])) : static_cast<S>(v[i]);
  }
}
}  // namespace detail

namespace detail {
/// Throws safetensors_error, before anything is written, if a parameter holds a non-finite value:
/// a file tapeless writes is one it loads.
template <class Net>
void require_finite_parameters(const Net& net, const std::string& path) {
  if (all_finite(net.values())) return;
  for (const ParameterInfo& p : net.parameters())
    for (Index i = 0; i < p.rows * p.cols; ++i)
      if (!std::isfinite(net.values()(p.offset + i)))
        throw safetensors_error("tapeless: " + path + ": parameter '" + p.name +
                                "' has a non-finite value at flat index " + std::to_string(i) +
                                "; not saved, the previous file, if any, is unchanged");
}
}  // namespace detail

/// The dtype `save_safetensors` writes: the network's own (F32 for float, F64 for double), or
/// another, each value rounded to nearest even (BF16 and F16: half precision, e.g. a model
/// trained with mixed precision shipped at half the size).
enum class SaveDtype { native, F32, F64, BF16, F16 };

namespace detail {
inline const char* dtype_name(SaveDtype d, bool is_float) {
  switch (d) {
    case SaveDtype::F32:
      return "F32";
    case SaveDtype::F64:
      return "F64";
    case SaveDtype::BF16:
      return "BF16";
    case SaveDtype::F16:
      return "F16";
    case SaveDtype::native:
      break;
  }
  return is_float ? "F32" : "F64";
}

/// The values of a network's buffer converted to `dtype`, appended to `data`; throws
/// safetensors_error naming the parameter when a value does not fit the dtype's range (it
/// would be saved as infinity).
template <class Net>
void append_converted(std::vector<unsigned char>& data, const Net& net, const std::string& dtype,
                      const std::string& path) {
  const auto& v = net.values();
  auto refuse = [&](Index i, double value) {
    for (const ParameterInfo& p : net.parameters())
      if (i >= p.offset && i < p.offset + p.rows * p.cols) {
        throw safetensors_error("tapeless: " + path + ": parameter '" + p.name + "' has the value " +
                                short_number(value) + " at flat index " + std::to_string(i - p.offset) +
                                ", beyond the range of " + dtype +
                                "; not saved, the previous file, if any, is unchanged");
      }
    throw std::logic_error("tapeless::save_safetensors: a value outside every parameter");
  };
  auto put = [&](const auto& bits) {
    const auto* p = reinterpret_cast<const unsigned char*>(&bits);
    data.insert(data.end(), p, p + sizeof(bits));
  };
  const bool f64 = dtype == "F64", f32 = dtype == "F32", bf16 = dtype == "BF16";  // else F16
  for (Index i = 0; i < v.size(); ++i) {
    const double x = static_cast<double>(v(i));
    if (f64) {
      put(x);
    } else {
      // the range is checked before the cast, which is undefined for a double beyond float's
      if (std::abs(x) > static_cast<double>(std::numeric_limits<float>::max())) refuse(i, x);
      if (f32) {
        put(static_cast<float>(x));
        continue;
      }
      const std::uint16_t bits =
          bf16 ? float_to_bfloat16_bits(static_cast<float>(x)) : float_to_half_bits(static_cast<float>(x));
      const float back = bf16 ? bfloat16_bits_to_float(bits) : half_bits_to_float(bits);
      if (!std::isfinite(back)) refuse(i, x);
      put(bits);
    }
  }
}
}  // namespace detail

/// Saves a network's parameters in PyTorch's layout (`dtype`: by default F32 for float, F64 for
/// double), atomically, with `metadata` and the network's architecture (`architecture_key`).
/// Refuses a network with a non-finite weight, or with a weight beyond the range of `dtype`
/// (F16's is 65504), and a `names` map (our name -> the file's) that names no parameter of the
/// network or gives two parameters one name: safetensors_error naming it; nothing is written.
template <class Net>
void save_safetensors(const Net& net, const std::string& path, const std::map<std::string, std::string>& names = {},
                      const std::map<std::string, std::string>& metadata = {}, SaveDtype dtype = SaveDtype::native) {
  if (const std::string problem = detail::name_map_problem(net.parameters(), names); !problem.empty())
    throw detail::unwritten(path, "not written: " + problem);
  detail::require_finite_parameters(net, path);
  const std::string type = detail::dtype_name(dtype, std::is_same_v<typename Net::scalar_type, float>);
  Safetensors file;
  file.tensors = detail::parameter_tensors(net, names, type);
  if (type == (std::is_same_v<typename Net::scalar_type, float> ? "F32" : "F64"))
    detail::append_bytes(file.data, net.values());  // as it is
  else
    detail::append_converted(file.data, net, type, path);
  file.metadata = metadata;
  file.metadata[architecture_key] = Net::architecture();  // ours: a caller's entry under this key is replaced
  write_safetensors(path, file);
}

/// Loads a network's parameters from a safetensors file in PyTorch's layout (any supported
/// dtype, converted). Every check passes before the network changes; on failure it throws
/// safetensors_error naming the tensor and the problem, and the network is as it was. Each of
/// the file's tensors loads exactly one parameter: a `LoadOptions::names` that gives two
/// parameters one tensor, or names no parameter of the network, is refused.
template <class Net>
void load_safetensors(Net& net, const Safetensors& file, const std::string& source, const LoadOptions& options = {}) {
  auto fail = [&](const std::string& what) { return safetensors_error("tapeless: " + source + ": " + what); };
  if (const std::string problem = detail::name_map_problem(net.parameters(), options.names); !problem.empty())
    throw fail(problem + " (LoadOptions::names)");
  if (const auto saved = file.metadata.find(architecture_key);
      options.check_architecture && saved != file.metadata.end() && saved->second != Net::architecture())
    throw fail("the file holds a " + saved->second + " (its metadata " + architecture_key + "), the network is a " +
               Net::architecture() + "; refused (LoadOptions::check_architecture = false loads it anyway)");
  typename Net::vector_type staged = net.values();
  std::vector<bool> used(file.tensors.size(), false);
  std::string missing;
  for (const ParameterInfo& p : net.parameters()) {
    const std::string name = detail::file_name(p, options.names);
    const SafetensorsTensor* t = file.find(name);
    if (!t) {
      missing += (missing.empty() ? "'" : ", '") + name + "'";
      continue;
    }
    used[static_cast<std::size_t>(t - file.tensors.data())] = true;
    const auto expected = detail::torch_shape(p);
    if (t->shape != expected)
      throw fail("tensor '" + name + "': expected shape " + detail::shape_string(expected) + ", found " +
                 detail::shape_string(t->shape));
    detail::convert_checked(file.values(*t), staged.data() + p.offset, options.allow_non_finite,
                            [&](const std::string& what) { return fail("tensor '" + name + "' " + what); });
  }
  std::string unexpected;
  for (std::size_t i = 0; i < used.size(); ++i)
    if (!used[i]) unexpected += (unexpected.empty() ? "'" : ", '") + file.tensors[i].name + "'";
  if (!missing.empty() || !unexpected.empty()) {  // both lists: enough to write LoadOptions::names
    std::string what;
    if (!missing.empty()) what = "missing tensor(s) " + missing;
    if (!unexpected.empty())
      what += (what.empty() ? "" : "; ") + std::string("unexpected tensor(s) ") + unexpected +
              (missing.empty() ? ": the network has no such parameter"
                               : " (LoadOptions::names maps the network's names to the file's)");
    throw fail(what);
  }
  net.values() = staged;  // same size: no reallocation, the views stay valid
}

/// load_safetensors from a file.
template <class Net>
void load_safetensors(Net& net, const std::string& path, const LoadOptions& options = {}) {
  load_safetensors(net, read_safetensors(path), path, options);
}

}  // namespace tapeless
