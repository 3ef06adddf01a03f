// io/json.hpp: strings, escapes, UTF-8, numbers and nesting against known values and known
// refusals (each naming its byte), and, over a hundred thousand mutated documents, the same
// accept/refuse decisions and the same values as nlohmann-json (the library it replaced).
#define BOOST_TEST_MODULE io_json
#include "tapeless/io/json.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

using namespace tapeless::detail;

namespace {
// The refusal of `text` as one value ("" if it is accepted).
std::string refusal(const std::string& text) {
  try {
    json::Reader in(text);
    in.skip_value(1);
    in.finish();
  } catch (const json::json_error& e) {
    return e.what();
  }
  return "";
}
bool accepts(const std::string& text) { return refusal(text).empty(); }
std::string string_of(const std::string& text) {
  json::Reader in(text);
  std::string s = in.string();
  in.finish();
  return s;
}
std::string written(const std::string& s) {
  std::string out;
  json::write_string(out, s);
  return out;
}
}  // namespace

BOOST_AUTO_TEST_CASE(strings_and_escapes) {
  BOOST_TEST(string_of(R"("plain")") == "plain");
  BOOST_TEST(string_of(R"("\"\\\/\b\f\n\r\t")") == "\"\\/\b\f\n\r\t");
  BOOST_TEST(string_of(R"("caf\u00e9 \u00E9")") == "caf\xc3\xa9 \xc3\xa9");
  BOOST_TEST(string_of(R"("\u20ac")") == "\xe2\x82\xac");
  BOOST_TEST(string_of(R"("\ud83d\ude00")") == "\xf0\x9f\x98\x80");  // a surrogate pair: U+1F600
  BOOST_TEST(string_of(R"("\u0000")") == std::string(1, '\0'));
  BOOST_TEST(string_of("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"") == "caf\xc3\xa9 \xf0\x9f\x98\x80");  // raw UTF-8
  BOOST_TEST(string_of("  \t\r\n\"x\"\n ") == "x");
}

BOOST_AUTO_TEST_CASE(bad_strings_are_refused_at_their_byte) {
  BOOST_TEST(refusal(R"("\ud83d")") == R"(at byte 7: a high surrogate \u escape without a low one after it)");
  BOOST_TEST(refusal(R"("\ud83d\u0041")") == R"(at byte 13: a high surrogate \u escape without a low one after it)");
  BOOST_TEST(refusal(R"("\ude00")") == R"(at byte 7: a low surrogate \u escape without a high one before it)");
  BOOST_TEST(refusal(R"("\x")") == "at byte 2: an unknown escape in a string");
  BOOST_TEST(refusal(R"("\u12g4")") == R"(at byte 5: expected 4 hexadecimal digits after \u)");
  BOOST_TEST(refusal("\"a\tb\"") == "at byte 2: a control character in a string must be escaped");
  BOOST_TEST(refusal("\"abc") == "at byte 4: the string is not closed");
  // not UTF-8: an overlong form, an encoded surrogate, a byte no sequence starts with, a cut sequence
  BOOST_TEST(refusal("\"\xc0\x80\"") == "at byte 1: a string that is not valid UTF-8");
  BOOST_TEST(refusal("\"\xe0\x80\xaf\"") == "at byte 1: a string that is not valid UTF-8");
  BOOST_TEST(refusal("\"a\xed\xa0\x80\"") == "at byte 2: a string that is not valid UTF-8");
  BOOST_TEST(refusal("\"\xf4\x90\x80\x80\"") == "at byte 1: a string that is not valid UTF-8");  // > U+10FFFF
  BOOST_TEST(refusal("\"\xf5\x80\x80\x80\"") == "at byte 1: a string that is not valid UTF-8");
  BOOST_TEST(refusal("\"\xe2\x82\"") == "at byte 1: a string that is not valid UTF-8");
  BOOST_TEST(refusal("\"\x80\"") == "at byte 1: a string that is not valid UTF-8");
}

BOOST_AUTO_TEST_CASE(numbers_keep_whether_they_are_unsigned_64_bit_integers) {
  auto number = [](const std::string& text) {
    json::Reader in(text);
    const json::Number n = in.number();
    in.finish();
    return n;
  };
  BOOST_TEST(number("0").is_unsigned);
  BOOST_TEST(number("0").value == 0u);
  BOOST_TEST(number("268").value == 268u);
  BOOST_TEST(number("18446744073709551615").is_unsigned);
  BOOST_TEST(number("18446744073709551615").value == UINT64_MAX);
  for (const char* other : {"18446744073709551616", "99999999999999999999", "-0", "-1", "1.0", "1e2", "1E+2", "0.5e-3"})
    BOOST_TEST(!number(other).is_unsigned, other);
  BOOST_TEST(refusal("01") == "at byte 1: expected the end of the text after the value");
  BOOST_TEST(refusal("-") == "at byte 1: expected a digit");
  BOOST_TEST(refusal("1.") == "at byte 2: expected a digit after '.'");
  BOOST_TEST(refusal("1e+") == "at byte 3: expected a digit in the exponent");
  BOOST_TEST(refusal("+1") == "at byte 0: expected a value");
  BOOST_TEST(refusal(".5") == "at byte 0: expected a value");
}

BOOST_AUTO_TEST_CASE(structure_nesting_and_the_end_of_the_text) {
  BOOST_TEST(accepts(R"({"a":[1,2,{"b":null}],"c":true,"d":false,"e":{}, "f":[]})"));
  BOOST_TEST(refusal("[1,]") == "at byte 3: expected a value");
  BOOST_TEST(refusal(R"({"a":1,})") == "at byte 7: expected a string key");
  BOOST_TEST(refusal(R"({"a" 1})") == "at byte 5: expected ':' after the key");
  BOOST_TEST(refusal(R"({"a":1 "b":2})") == "at byte 7: expected ',' or '}'");
  BOOST_TEST(refusal("[1") == "at byte 2: expected ',' or ']', found the end of the text");
  BOOST_TEST(refusal("") == "at byte 0: expected a value, found the end of the text");
  BOOST_TEST(refusal("tru") == "at byte 0: expected a value");
  BOOST_TEST(refusal("{} {}") == "at byte 3: expected the end of the text after the value");
  BOOST_TEST(refusal("\f{}") == "at byte 0: expected a value");  // \f is not JSON whitespace
  BOOST_TEST(refusal(std::string("{}\0", 3)) == "at byte 2: expected the end of the text after the value");
  // 64 levels and no more
  BOOST_TEST(accepts(std::string(64, '[') + std::string(64, ']')));
  BOOST_TEST(refusal(std::string(65, '[') + std::string(65, ']')) == "at byte 64: nesting deeper than 64 levels");
  BOOST_TEST(refusal(std::string(100000, '[')) == "at byte 64: nesting deeper than 64 levels");
}

BOOST_AUTO_TEST_CASE(a_caller_reads_what_it_expects) {
  json::Reader in(R"( { "shape" : [ 8 , 4 ] , "e" : { } , "x" : [ ] } )");
  BOOST_TEST(in.begin_object());
  BOOST_TEST(in.key() == "shape");
  BOOST_TEST(in.begin_array());
  BOOST_TEST(in.number().value == 8u);
  BOOST_TEST(in.next_element());
  BOOST_TEST(in.number().value == 4u);
  BOOST_TEST(!in.next_element());
  BOOST_TEST(in.next_member());
  BOOST_TEST(in.key() == "e");
  BOOST_TEST(!in.begin_object());  // empty: its '}' is read too
  BOOST_TEST(in.next_member());
  BOOST_TEST(in.key() == "x");
  BOOST_TEST(in.peek() == '[');
  BOOST_TEST(!in.begin_array());
  BOOST_TEST(!in.next_member());
  BOOST_TEST(in.peek() == '\0');
  in.finish();
}

BOOST_AUTO_TEST_CASE(strings_are_written_as_nlohmann_json_writes_them) {
  BOOST_TEST(written("a\"b\\c/d") == R"("a\"b\\c/d")");
  BOOST_TEST(written("\b\f\n\r\t") == R"("\b\f\n\r\t")");
  BOOST_TEST(written(std::string("\x01\x1f\0\x7f", 4)) == std::string("\"\\u0001\\u001f\\u0000\x7f\""));
  BOOST_TEST(written("caf\xc3\xa9 \xf0\x9f\x98\x80") == "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
  BOOST_CHECK_THROW(written("\xff"), json::json_error);
  BOOST_CHECK_THROW(written("ok\xed\xa0\x80"), json::json_error);
  // every code point class, written and read back, and written exactly as nlohmann-json dumps it
  std::mt19937 random(7);
  for (int n = 0; n < 2000; ++n) {
    std::string s;
    const int length = static_cast<int>(random() % 12);
    for (int k = 0; k < length; ++k) {
      const std::uint32_t ranges[][2] = {
          {0, 0x7f}, {0x80, 0x7ff}, {0x800, 0xd7ff}, {0xe000, 0xffff}, {0x10000, 0x10ffff}};
      const auto& r = ranges[random() % 5];
      json::append_utf8(s, r[0] + static_cast<std::uint32_t>(random() % (r[1] - r[0] + 1)));
    }
    const std::string text = written(s);
    BOOST_TEST(string_of(text) == s);
    BOOST_TEST(text == nlohmann::json(s).dump());
  }
}

BOOST_AUTO_TEST_CASE(mutated_documents_are_judged_as_nlohmann_json_judges_them) {
  const std::vector<std::string> seeds = {
      R"({"0.weight":{"dtype":"F32","shape":[8,4],"data_offsets":[0,128]},"__metadata__":{"format":"pt"}})",
      R"([1, -2.5e+3, 0.0, true, false, null, "a\"\\\/\u00e9\ud83d\ude00", {"": []}])",
      "{\"caf\xc3\xa9\": \"\xe2\x82\xac\xf0\x9f\x98\x80\", \"n\": [18446744073709551615, 18446744073709551616]}",
      R"("\b\f\n\r\t")",
      "[[[[{\"a\":[[]]}]]]]",
      "-0.1E-2",
  };
  static constexpr char bytes[] =
      "{}[],:\"\\ \t\n\r0123456789-+.eEtrufalsn/ubfx\x00\x01\x7f\x80\xbf\xc3\xe2\xed\xf0\xff";
  const std::string alphabet(bytes, sizeof bytes - 1);  // with its NUL
  std::mt19937 random(2026);
  int agreed_accepted = 0, agreed_refused = 0;
  for (const std::string& seed : seeds) {
    for (int n = 0; n < 20000; ++n) {
      std::string doc = seed;
      for (int edits = 1 + static_cast<int>(random() % 3); edits > 0; --edits) {
        const std::size_t at = random() % (doc.size() + 1);
        const char c = alphabet[random() % alphabet.size()];
        switch (random() % 3) {
          case 0:
            if (at < doc.size()) doc[at] = c;
            break;
          case 1:
            doc.insert(doc.begin() + static_cast<std::ptrdiff_t>(at), c);
            break;
          default:
            if (at < doc.size()) doc.erase(at, 1);
        }
      }
      if (doc.find('\0') != std::string::npos) {  // nlohmann-json reads a NUL byte as the end of the text
        BOOST_TEST(!accepts(doc), doc);           // JSON has no raw NUL, in strings or out
        continue;
      }
      bool theirs = true;
      nlohmann::json value;
      try {
        value = nlohmann::json::parse(doc);
      } catch (const nlohmann::json::out_of_range&) {
        continue;  // a float beyond double's range: they refuse it, JSON allows it
      } catch (const nlohmann::json::exception&) {
        theirs = false;
      }
      const bool ours = accepts(doc);
      BOOST_TEST(ours == theirs, "\"" << doc << "\": ours " << ours << ", nlohmann-json " << theirs);
      (ours ? agreed_accepted : agreed_refused) += ours == theirs;
      // values they both read: a string's text, a number's unsigned value
      if (ours && theirs && value.is_string()) BOOST_TEST(string_of(doc) == value.get<std::string>());
      if (ours && theirs && value.is_number()) {
        json::Reader in(doc);
        const json::Number number = in.number();
        BOOST_TEST(number.is_unsigned == value.is_number_unsigned(), doc);
        if (number.is_unsigned) BOOST_TEST(number.value == value.get<std::uint64_t>());
      }
    }
  }
  // both kinds of decision were exercised
  BOOST_TEST(agreed_accepted > 1000);
  BOOST_TEST(agreed_refused > 1000);
}
