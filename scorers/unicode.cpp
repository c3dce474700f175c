#include "scorers/unicode.h"

#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <iterator>
#include <span>
#include <stdexcept>

namespace ys::unicode {
namespace {

struct code_point_range {
  char32_t first;
  char32_t last;
};

#include "scorers/unicode_tables.inc"

bool in_ranges(std::span<const code_point_range> ranges, char32_t c) {
  const auto after =
      std::upper_bound(ranges.begin(), ranges.end(), c,
                       [](char32_t v, const code_point_range& r) { return v < r.first; });
  return after != ranges.begin() && c <= std::prev(after)->last;
}

locale_t utf8_locale_or_null() {
  static const locale_t locale = [] {
    for (const char* name : {"C.UTF-8", "C.utf8", "en_US.UTF-8"}) {
      if (const locale_t l = newlocale(LC_CTYPE_MASK, name, static_cast<locale_t>(nullptr))) {
        return l;
      }
    }
    return static_cast<locale_t>(nullptr);
  }();
  return locale;
}

locale_t utf8_locale() {
  const locale_t locale = utf8_locale_or_null();
  if (locale == nullptr) throw std::runtime_error("no UTF-8 locale (C.UTF-8) for lowercasing");
  return locale;
}

bool is_cased(char32_t c) {
  return in_ranges(kCasedRanges, c);
}

bool is_case_ignorable(char32_t c) {
  return in_ranges(kCaseIgnorableRanges, c);
}

// Python lowers U+03A3 to the final form U+03C2 when a cased letter precedes it and none follows
// it, looking past case-ignorable characters (apostrophes, combining marks) both ways.
bool is_final_sigma(std::u32string_view s, std::size_t i) {
  std::size_t j = i;
  while (j > 0 && is_case_ignorable(s[j - 1]))
    --j;
  if (j == 0 || !is_cased(s[j - 1])) return false;
  std::size_t k = i + 1;
  while (k < s.size() && is_case_ignorable(s[k]))
    ++k;
  return k == s.size() || !is_cased(s[k]);
}

}  // namespace

char32_t decode_at(std::string_view s, std::size_t pos, std::size_t* length) {
  const auto b = static_cast<unsigned char>(s[pos]);
  *length = 1;
  if (b < 0x80) return b;
  std::size_t len = 0;
  char32_t c = 0;
  char32_t min = 0;
  if (b >= 0xC2 && b <= 0xDF) {
    len = 2, c = b & 0x1F, min = 0x80;
  } else if (b >= 0xE0 && b <= 0xEF) {
    len = 3, c = b & 0x0F, min = 0x800;
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4, c = b & 0x07, min = 0x10000;
  }
  bool ok = len != 0 && pos + len <= s.size();
  for (std::size_t k = 1; ok && k < len; ++k) {
    const auto cont = static_cast<unsigned char>(s[pos + k]);
    ok = (cont & 0xC0) == 0x80;
    c = (c << 6) | (cont & 0x3F);
  }
  ok = ok && c >= min && c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF);
  if (!ok) return kEscapeBase + b;
  *length = len;
  return c;
}

char32_t decode_before(std::string_view s, std::size_t pos, std::size_t* length) {
  std::size_t start = pos - 1;
  while (start > 0 && pos - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80)
    --start;
  std::size_t len = 0;
  const char32_t c = decode_at(s, start, &len);
  if (start + len == pos) {
    *length = len;
    return c;
  }
  *length = 1;
  return kEscapeBase + static_cast<unsigned char>(s[pos - 1]);
}

void decode(std::string_view s, std::u32string& out) {
  out.clear();
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t len = 0;
    out.push_back(decode_at(s, pos, &len));
    pos += len;
  }
}

std::u32string decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  decode(s, out);
  return out;
}

void append_utf8(char32_t c, std::string& out) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c >= kEscapeBase + 0x80 && c <= kEscapeBase + 0xFF) {
    out.push_back(static_cast<char>(c - kEscapeBase));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

void lower(std::u32string_view in, std::u32string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char32_t c = in[i];
    if (c < 0x80) {
      out.push_back(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    } else if (c == 0x130) {
      // The one unconditional multi-character lowercase mapping (SpecialCasing.txt).
      out.push_back(U'i');
      out.push_back(0x307);
    } else if (c == 0x3A3) {
      out.push_back(is_final_sigma(in, i) ? 0x3C2 : 0x3C3);
    } else if (c >= 0xD800 && c <= 0xDFFF) {
      out.push_back(c);  // an escaped byte
    } else {
      out.push_back(static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), utf8_locale())));
    }
  }
}

std::u32string lower(std::u32string_view in) {
  std::u32string out;
  out.reserve(in.size());
  lower(in, out);
  return out;
}

bool is_upper(char32_t c) {
  const locale_t locale = utf8_locale_or_null();
  return locale != nullptr && iswupper_l(static_cast<wint_t>(c), locale) != 0;
}

int decimal_value(char32_t c) {
  const auto after = std::upper_bound(std::begin(kDecimalZeros), std::end(kDecimalZeros), c);
  if (after == std::begin(kDecimalZeros)) return -1;
  const char32_t zero = *std::prev(after);
  return c - zero < 10 ? static_cast<int>(c - zero) : -1;
}

namespace detail {

bool is_word_non_ascii(char32_t c) {
  return in_ranges(kWordRanges, c);
}

}  // namespace detail
}  // namespace ys::unicode
