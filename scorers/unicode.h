// Unicode as Python 3 sees it, for the scorers that must reproduce a Python reference to the
// letter (DROP's drop_eval.py, ALCE's SQuAD-style normalization).
//
// Python's \w and final-sigma rule disagree with glibc's classes on thousands of code points
// (glibc counts combining marks as alphanumeric, Python counts superscript digits and other
// No-category numbers), and either one next to an article decides whether it is removed. So
// these properties come from tables generated from Python's own unicodedata
// (tests/fixtures/drop/make_unicode_tables.py); only the simple lowercase mapping, where glibc and
// Python agree, is left to the C.UTF-8 locale.
//
// Bytes that are not valid UTF-8 decode to U+DC80..U+DCFF (as Python's surrogateescape does) and
// encode back to themselves, so malformed model output passes through instead of failing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ys::unicode {

// An invalid byte b decodes to kEscapeBase + b (b >= 0x80).
inline constexpr char32_t kEscapeBase = 0xDC00;

// The code point starting at `pos` (< s.size()); its length in bytes goes to `*length`.
char32_t decode_at(std::string_view s, std::size_t pos, std::size_t* length);

// The code point ending just before `pos` (> 0); its length in bytes goes to `*length`. A byte
// that does not end a valid sequence stands alone.
char32_t decode_before(std::string_view s, std::size_t pos, std::size_t* length);

// All of `s`, into `out` (cleared first; its capacity is reused).
void decode(std::string_view s, std::u32string& out);
std::u32string decode(std::string_view s);

// Appends the UTF-8 of `c`; an escaped byte becomes that byte again.
void append_utf8(char32_t c, std::string& out);

// Python's str.lower(): the C.UTF-8 locale's simple mapping plus U+0130 -> "i\u0307" and the
// final-sigma rule. Escaped bytes are kept. Throws std::runtime_error where no UTF-8 locale
// exists and a non-ASCII character needs lowering, since lowering only ASCII would silently
// change scores.
void lower(std::u32string_view in, std::u32string& out);
std::u32string lower(std::u32string_view in);

// glibc's iswupper in the UTF-8 locale; false where there is no such locale.
bool is_upper(char32_t c);

// The value of a non-ASCII decimal digit (unicodedata.decimal), or -1; ASCII digits, which
// callers handle on their own, give -1 too.
int decimal_value(char32_t c);

namespace detail {

inline constexpr std::uint8_t kSpaceBit = 1;
inline constexpr std::uint8_t kWordBit = 2;

constexpr std::array<std::uint8_t, 128> make_ascii_classes() {
  std::array<std::uint8_t, 128> classes{};
  for (const char c : std::string_view("\t\n\v\f\r\x1c\x1d\x1e\x1f "))
    classes[static_cast<unsigned char>(c)] |= kSpaceBit;
  for (const char c :
       std::string_view("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"))
    classes[static_cast<unsigned char>(c)] |= kWordBit;
  return classes;
}
inline constexpr std::array<std::uint8_t, 128> kAsciiClasses = make_ascii_classes();

bool is_word_non_ascii(char32_t c);

}  // namespace detail

// Python's str.isspace(), which str.split() and str.strip() use.
inline bool is_space(char32_t c) {
  if (c < 0x80) return (detail::kAsciiClasses[c] & detail::kSpaceBit) != 0;
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Python's re \w: str.isalnum() or '_'. Combining marks are not word characters; superscript
// digits and other No-category numbers are. The ASCII test stays inline: scorers ask it for
// every character.
inline bool is_word(char32_t c) {
  if (c < 0x80) return (detail::kAsciiClasses[c] & detail::kWordBit) != 0;
  return detail::is_word_non_ascii(c);
}

}  // namespace ys::unicode
