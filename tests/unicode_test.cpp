#include "scorers/unicode.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace ys::unicode {
namespace {

// Expected values are what Python 3.11 gives (str.lower(), re's \w, str.isspace(),
// unicodedata.decimal, bytes.decode("utf-8", "surrogateescape")).

std::string encode(std::u32string_view cps) {
  std::string out;
  for (const char32_t c : cps)
    append_utf8(c, out);
  return out;
}

TEST(UnicodeDecode, MultiByteSequences) {
  std::size_t len = 0;
  EXPECT_EQ(decode_at("A", 0, &len), U'A');
  EXPECT_EQ(len, 1u);
  EXPECT_EQ(decode_at("\xC3\x89", 0, &len), U'\u00C9');  // É
  EXPECT_EQ(len, 2u);
  EXPECT_EQ(decode_at("x\xE2\x82\xAC", 1, &len), U'\u20AC');  // €
  EXPECT_EQ(len, 3u);
  EXPECT_EQ(decode_at("\xF0\x9F\x98\x80", 0, &len), U'\U0001F600');
  EXPECT_EQ(len, 4u);
  EXPECT_EQ(decode("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"), U"a\u00E9\u20AC\U0001F600");
}

TEST(UnicodeDecode, InvalidBytesBecomeEscapesAndEncodeBack) {
  std::size_t len = 0;
  EXPECT_EQ(decode_at("\xFF", 0, &len), char32_t{0xDCFF});
  EXPECT_EQ(len, 1u);
  // A lone continuation byte, an overlong form, a truncated sequence, an encoded surrogate and
  // a code point above U+10FFFF: every byte stands alone.
  EXPECT_EQ(decode("\x80"), U"\xDC80");
  EXPECT_EQ(decode("\xC0\x80"), U"\xDCC0\xDC80");
  EXPECT_EQ(decode("\xE2\x82z"), U"\xDCE2\xDC82z");
  EXPECT_EQ(decode("\xED\xA0\x80"), U"\xDCED\xDCA0\xDC80");
  EXPECT_EQ(decode("\xF4\x90\x80\x80"), U"\xDCF4\xDC90\xDC80\xDC80");
  for (const std::string_view bad :
       {"\x80", "\xC0\x80", "a\xE2\x82z", "\xED\xA0\x80", "\xFF\xFE"}) {
    EXPECT_EQ(encode(decode(bad)), bad);
  }
}

TEST(UnicodeDecode, ReusesTheOutputBuffer) {
  std::u32string out = U"stale";
  decode("\xC3\xA9t\xC3\xA9", out);
  EXPECT_EQ(out, U"\u00E9t\u00E9");
  decode("", out);
  EXPECT_TRUE(out.empty());
}

TEST(UnicodeDecode, Backwards) {
  std::size_t len = 0;
  EXPECT_EQ(decode_before("a\xC3\xA9", 3, &len), U'\u00E9');
  EXPECT_EQ(len, 2u);
  EXPECT_EQ(decode_before("\xE2\x82\xAC", 3, &len), U'\u20AC');
  EXPECT_EQ(len, 3u);
  EXPECT_EQ(decode_before("ab", 2, &len), U'b');
  EXPECT_EQ(len, 1u);
  // A continuation byte too many: it does not end a valid sequence, so it stands alone.
  EXPECT_EQ(decode_before("\xC3\xA9\xA9", 3, &len), char32_t{0xDCA9});
  EXPECT_EQ(len, 1u);
}

TEST(UnicodeEncode, AllLengths) {
  EXPECT_EQ(encode(U"a\u00E9\u20AC\U0001F600"), "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  EXPECT_EQ(encode(U"\xDC80\xDCFF"), "\x80\xFF");
}

TEST(UnicodeLower, LikePythonStrLower) {
  EXPECT_EQ(lower(U"\u00C9COLE"), U"\u00E9cole");
  EXPECT_EQ(lower(U"\u00C0\u00C9\u00CE \u03A9"), U"\u00E0\u00E9\u00EE \u03C9");
  // U+0130 is the one character that lowers to two.
  EXPECT_EQ(lower(U"\u0130"), U"i\u0307");
  EXPECT_EQ(lower(U"\u0130stanbul"), U"i\u0307stanbul");
}

TEST(UnicodeLower, FinalSigma) {
  // ΟΔΟΣ -> οδος
  EXPECT_EQ(lower(U"\u039F\u0394\u039F\u03A3"), U"\u03BF\u03B4\u03BF\u03C2");
  EXPECT_EQ(lower(U"\u03A3"), U"\u03C3");  // nothing cased before
  EXPECT_EQ(lower(U"\u03A3\u0391"), U"\u03C3\u03B1");
  // Case-ignorable characters are looked past both ways.
  EXPECT_EQ(lower(U"\u0391\u03A3'"), U"\u03B1\u03C2'");
  EXPECT_EQ(lower(U"\u0391\u0301\u03A3"), U"\u03B1\u0301\u03C2");
  EXPECT_EQ(lower(U"\u0391\u03A3\u0301\u0391"), U"\u03B1\u03C3\u0301\u03B1");
}

TEST(UnicodeLower, KeepsEscapedBytesAndReusesTheBuffer) {
  std::u32string out = U"stale";
  lower(U"A\xDCC9", out);
  EXPECT_EQ(out, U"a\xDCC9");
}

TEST(UnicodeClasses, WordCharactersAsPythonRe) {
  EXPECT_TRUE(is_word(U'a'));
  EXPECT_TRUE(is_word(U'Z'));
  EXPECT_TRUE(is_word(U'7'));
  EXPECT_TRUE(is_word(U'_'));
  EXPECT_FALSE(is_word(U'-'));
  EXPECT_FALSE(is_word(U' '));
  EXPECT_TRUE(is_word(U'\u00E9'));
  EXPECT_TRUE(is_word(U'\u00B2'));   // '²': a No-category number, so \w in Python
  EXPECT_TRUE(is_word(U'\u00BD'));   // '½'
  EXPECT_TRUE(is_word(U'\u0663'));   // Arabic-Indic three
  EXPECT_FALSE(is_word(U'\u0301'));  // a combining acute accent, unlike glibc's iswalnum
  EXPECT_FALSE(is_word(U'\u00B7'));
  EXPECT_FALSE(is_word(U'\u2013'));         // en dash
  EXPECT_FALSE(is_word(char32_t{0xDCC3}));  // an escaped byte
}

TEST(UnicodeClasses, SpaceAsPythonIsspace) {
  for (const char32_t c : std::u32string_view(U" \t\n\v\f\r\x1C\x1D\x1E\x1F\x85\xA0\u1680\u2000"
                                              U"\u200A\u2028\u2029\u202F\u205F\u3000")) {
    EXPECT_TRUE(is_space(c)) << static_cast<unsigned>(c);
  }
  for (const char32_t c : std::u32string_view(U"a_\x1B\u200B\uFEFF\u180E")) {
    EXPECT_FALSE(is_space(c)) << static_cast<unsigned>(c);
  }
}

TEST(UnicodeClasses, DecimalDigits) {
  EXPECT_EQ(decimal_value(U'\u0660'), 0);  // Arabic-Indic
  EXPECT_EQ(decimal_value(U'\u0663'), 3);
  EXPECT_EQ(decimal_value(U'\uFF15'), 5);      // fullwidth
  EXPECT_EQ(decimal_value(U'\U0001D7D7'), 9);  // mathematical bold nine
  EXPECT_EQ(decimal_value(U'\u00B2'), -1);     // a digit, not a decimal
  EXPECT_EQ(decimal_value(U'\u00BD'), -1);
  EXPECT_EQ(decimal_value(U'\u00E9'), -1);
}

TEST(UnicodeClasses, Uppercase) {
  EXPECT_TRUE(is_upper(U'\u00C9'));
  EXPECT_TRUE(is_upper(U'\u0394'));
  EXPECT_FALSE(is_upper(U'\u00E9'));
  EXPECT_FALSE(is_upper(U'\u00B2'));
}

}  // namespace
}  // namespace ys::unicode
