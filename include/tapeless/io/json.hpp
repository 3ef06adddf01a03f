/// @file
/// @brief The JSON of safetensors headers: a strict reader that a caller drives value by value
/// (no document tree is built), and a string writer; no templates, so compiled once per program.
///
/// The reader follows RFC 8259: JSON whitespace between tokens, no trailing commas, comments or
/// leading zeros, strings of valid UTF-8 without raw control characters, `\u` escapes with
/// surrogate pairs joined (a lone surrogate is an error). A caller reads the values it expects
/// (objects, arrays, strings, numbers) and skips the others with `skip_value`, which checks
/// their syntax and refuses nesting deeper than `max_depth`. Since no tree is built, reading
/// takes memory only for what the caller keeps: a hostile header cannot multiply its size in
/// memory. A number keeps only what a header reads from it: whether it is a non-negative
/// integer that fits 64 bits, and that integer. Errors throw `json_error`: "at byte N: what
/// was expected there".
///
/// The writer escapes `"`, `\` and control characters (`\b \f \n \r \t`, others `\u00xx`),
/// keeps other UTF-8 as it is and refuses a string that is not valid UTF-8.
///
/// Chosen over a general JSON library (nlohmann-json, which tapeless used until stop 33) for
/// compile time: including it cost 1.1 s per translation unit, and a safetensors save and load
/// 4.3 s more (g++ 12 -O2; bench/analysis.md, stop 33), for a format that needs objects,
/// arrays, strings and unsigned integers.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tapeless::detail::json {

/// A syntax error: "at byte N: what".
class json_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The deepest nesting `skip_value` accepts (the root value is depth 1).
inline constexpr int max_depth = 64;

/// A number as a header reads it.
struct Number {
  bool is_unsigned = false;  ///< written as a non-negative integer (no sign, fraction or exponent) that fits 64 bits
  std::uint64_t value = 0;   ///< that integer
};

/// The length of the valid UTF-8 sequence at s[i] (1 to 4), or 0 if it is not one (overlong
/// forms, surrogates and code points beyond U+10FFFF are not).
inline std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) low = 0xA0;   // overlong
    if (c == 0xED) high = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) low = 0x90;   // overlong
    if (c == 0xF4) high = 0x8F;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < n || byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}

inline void append_utf8(std::string& out, std::uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

/// Reads JSON text token by token; every method first skips whitespace.
class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  /// The first byte of the next value ('{', '[', '"', a digit or '-', 't', 'f', 'n'), or '\0'
  /// at the end of the text.
  char peek() {
    space();
    return at_end() ? '\0' : s_[i_];
  }
  /// Whether the next value is a number (it starts with a digit or '-').
  bool at_number() {
    const char c = peek();
    return c == '-' || (c >= '0' && c <= '9');
  }
  /// Throws json_error at the current offset.
  [[noreturn]] void fail(const std::string& what) const {
    throw json_error("at byte " + std::to_string(i_) + ": " + what);
  }

  /// Reads '{'; false, with the '}' read too, if the object is empty.
  bool begin_object() { return begin('{', '}', "'{'"); }
  /// Reads a member's key and its ':'.
  std::string key() {
    if (peek() != '"') fail("expected a string key");
    std::string k = string();
    if (peek() != ':') fail("expected ':' after the key");
    ++i_;
    return k;
  }
  /// After a member's value: true, with the ',' read, if another member follows; false, with
  /// the '}' read, if the object ends.
  bool next_member() { return next('}'); }
  /// Reads '['; false, with the ']' read too, if the array is empty.
  bool begin_array() { return begin('[', ']', "'['"); }
  /// After an element: true, with the ',' read, if another follows; false, with the ']' read.
  bool next_element() { return next(']'); }

  /// Reads a string value.
  std::string string() {
    if (peek() != '"') fail("expected a string");
    ++i_;
    std::string out;
    for (;;) {
      if (at_end()) fail("the string is not closed");
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') break;
      if (c < 0x20) fail("a control character in a string must be escaped");
      if (c == '\\') {
        escape(out);
        continue;
      }
      const std::size_t n = utf8_length(s_, i_);
      if (n == 0) fail("a string that is not valid UTF-8");
      out.append(s_.substr(i_, n));
      i_ += n;
    }
    ++i_;
    return out;
  }

  /// Reads a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  Number number() {
    if (!at_number()) fail("expected a number");
    bool integer = true;
    const bool negative = s_[i_] == '-';
    if (negative) ++i_;
    if (!digit()) fail("expected a digit");
    const std::size_t begin = i_;
    if (s_[i_] == '0')
      ++i_;
    else
      digits("expected a digit");
    const std::size_t end = i_;
    if (!at_end() && s_[i_] == '.') {
      integer = false;
      ++i_;
      digits("expected a digit after '.'");
    }
    if (!at_end() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      integer = false;
      ++i_;
      if (!at_end() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      digits("expected a digit in the exponent");
    }
    Number out;
    if (!integer || negative) return out;
    std::uint64_t n = 0;
    for (std::size_t k = begin; k < end; ++k) {
      const auto d = static_cast<std::uint64_t>(s_[k] - '0');
      if (n > (UINT64_MAX - d) / 10) return out;  // beyond 64 bits: a number, not an unsigned one
      n = n * 10 + d;
    }
    out.is_unsigned = true;
    out.value = n;
    return out;
  }

  /// Reads any value, checking its syntax; `depth` is its nesting level (the root is 1).
  void skip_value(int depth) {
    if (depth > max_depth) fail("nesting deeper than " + std::to_string(max_depth) + " levels");
    switch (peek()) {
      case '{':
        if (begin_object()) do {
            (void)key();
            skip_value(depth + 1);
          } while (next_member());
        return;
      case '[':
        if (begin_array()) do
            skip_value(depth + 1);
          while (next_element());
        return;
      case '"':
        (void)string();
        return;
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        if (!at_number()) fail(at_end() ? "expected a value, found the end of the text" : "expected a value");
        (void)number();
    }
  }

  /// Checks that only whitespace is left.
  void finish() {
    if (peek() != '\0' || !at_end()) fail("expected the end of the text after the value");
  }

 private:
  bool at_end() const { return i_ >= s_.size(); }
  bool digit() const { return !at_end() && s_[i_] >= '0' && s_[i_] <= '9'; }
  void digits(const char* what) {
    if (!digit()) fail(what);
    while (digit()) ++i_;
  }
  void space() {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool begin(char open, char close, const char* what) {
    if (peek() != open) fail(std::string("expected ") + what);
    ++i_;
    if (peek() != close) return true;
    ++i_;
    return false;
  }
  bool next(char close) {
    const char c = peek();
    if (c == close) {
      ++i_;
      return false;
    }
    if (c == ',') {
      ++i_;
      return true;
    }
    if (at_end()) fail(std::string("expected ',' or '") + close + "', found the end of the text");
    fail(std::string("expected ',' or '") + close + "'");
  }
  void literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) fail("expected a value");
    i_ += word.size();
  }
  unsigned hex4() {
    unsigned code = 0;
    for (int k = 0; k < 4; ++k, ++i_) {
      if (at_end()) fail("expected 4 hexadecimal digits after \\u");
      const char c = s_[i_];
      code <<= 4;
      if (c >= '0' && c <= '9')
        code |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        code |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        code |= static_cast<unsigned>(c - 'A' + 10);
      else
        fail("expected 4 hexadecimal digits after \\u");
    }
    return code;
  }
  // at a backslash in a string
  void escape(std::string& out) {
    ++i_;
    if (at_end()) fail("the string is not closed");
    const char e = s_[i_];
    switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        ++i_;
        std::uint32_t code = hex4();
        if (code >= 0xDC00 && code <= 0xDFFF) fail("a low surrogate \\u escape without a high one before it");
        if (code >= 0xD800 && code <= 0xDBFF) {
          if (s_.substr(i_, 2) != "\\u") fail("a high surrogate \\u escape without a low one after it");
          i_ += 2;
          const std::uint32_t low = hex4();
          if (low < 0xDC00 || low > 0xDFFF) fail("a high surrogate \\u escape without a low one after it");
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(out, code);
        return;
      }
      default:
        fail("an unknown escape in a string");
    }
    ++i_;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

/// Appends `s` to `out` as a JSON string; throws json_error if `s` is not valid UTF-8.
inline void write_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_length(s, i);
      if (n == 0) throw json_error("at byte " + std::to_string(i) + " of a string to write: not valid UTF-8");
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

}  // namespace tapeless::detail::json
