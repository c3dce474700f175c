#include "scorers/numeric_answer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace ys::numeric {
namespace {

// Scoring runs on every completion of every run, so this file avoids std::regex and heap
// allocation on the common path: everything is a hand-written scan over string_views.

constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";
constexpr std::size_t kMaxSignificantDigits = 19;  // fits in uint64_t without overflow
constexpr std::uint64_t kMaxExactMantissa = std::uint64_t{1} << 53;
constexpr int kMaxExactPow10 = 22;
constexpr std::array<double, kMaxExactPow10 + 1> kPow10 = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_alnum(char c) {
  return is_digit(c) || is_alpha(c);
}
char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

bool starts_with_at(std::string_view text, std::size_t pos, std::string_view prefix) {
  return pos <= text.size() && text.substr(pos).starts_with(prefix);
}

bool digit_at(std::string_view text, std::size_t pos) {
  return pos < text.size() && is_digit(text[pos]);
}

// U+2212 MINUS SIGN, which models and LaTeX-to-text converters emit in place of '-'.
constexpr std::string_view kUnicodeMinus = "\xE2\x88\x92";

// Length of the minus sign starting at `pos` (0 when there is none).
std::size_t minus_len_at(std::string_view text, std::size_t pos) {
  if (pos < text.size() && text[pos] == '-') return 1;
  if (starts_with_at(text, pos, kUnicodeMinus)) return kUnicodeMinus.size();
  return 0;
}

// Length of a thousands separator at `pos`: ',' or LaTeX "{,}" followed by exactly three digits.
// Requiring exactly three keeps "1,2" and "3,45" as two numbers, as they are lists.
std::size_t thousands_separator_len(std::string_view text, std::size_t pos) {
  std::size_t len = 0;
  if (pos < text.size() && text[pos] == ',') {
    len = 1;
  } else if (starts_with_at(text, pos, "{,}")) {
    len = 3;
  } else {
    return 0;
  }
  const std::size_t group = pos + len;
  if (!digit_at(text, group) || !digit_at(text, group + 1) || !digit_at(text, group + 2) ||
      digit_at(text, group + 3)) {
    return 0;
  }
  return len;
}

struct lexed {
  double value = 0;
  std::size_t end = 0;
};

// Accumulates decimal digits into a 19-digit mantissa and a power-of-ten exponent, then converts
// with one correctly rounded multiply or divide when both operands are exact (the common case),
// falling back to from_chars for long numbers.
class digit_accumulator {
 public:
  void add_integer_digit(char c) {
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (significant_ == 0 && d == 0) return;
    if (significant_ < kMaxSignificantDigits) {
      mantissa_ = mantissa_ * 10 + d;
      ++significant_;
    } else {
      ++exponent_;
    }
  }

  void add_fraction_digit(char c) {
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (significant_ == 0 && d == 0) {
      --exponent_;
      return;
    }
    if (significant_ < kMaxSignificantDigits) {
      mantissa_ = mantissa_ * 10 + d;
      ++significant_;
      --exponent_;
    }
  }

  double value() const {
    if (mantissa_ == 0) return 0.0;
    if (mantissa_ <= kMaxExactMantissa && exponent_ >= -kMaxExactPow10 &&
        exponent_ <= kMaxExactPow10) {
      const auto m = static_cast<double>(mantissa_);
      return exponent_ >= 0 ? m * kPow10[exponent_] : m / kPow10[-exponent_];
    }
    // 20 characters hold any uint64_t, the rest any int exponent.
    std::array<char, 48> buffer{};
    char* const exponent_mark = std::to_chars(buffer.data(), buffer.data() + 20, mantissa_).ptr;
    *exponent_mark = 'e';
    char* const out =
        std::to_chars(exponent_mark + 1, buffer.data() + buffer.size(), exponent_).ptr;
    double result = 0;
    if (std::from_chars(buffer.data(), out, result).ec == std::errc::result_out_of_range) {
      return exponent_ > 0 ? std::numeric_limits<double>::infinity() : 0.0;
    }
    return result;
  }

 private:
  std::uint64_t mantissa_ = 0;
  std::size_t significant_ = 0;
  int exponent_ = 0;
};

bool starts_magnitude(std::string_view text, std::size_t pos) {
  return digit_at(text, pos) || (pos < text.size() && text[pos] == '.' && digit_at(text, pos + 1));
}

// An unsigned decimal: digits with thousands separators, an optional fraction, or ".75". A
// trailing period that is not followed by a digit ends a sentence and is not consumed.
std::optional<lexed> lex_magnitude(std::string_view text, std::size_t pos) {
  if (!starts_magnitude(text, pos)) return std::nullopt;
  digit_accumulator digits;
  std::size_t i = pos;
  while (true) {
    while (digit_at(text, i))
      digits.add_integer_digit(text[i++]);
    if (i == pos) break;  // ".75": no integer part, so no separators either
    const std::size_t separator = thousands_separator_len(text, i);
    if (separator == 0) break;
    i += separator;
  }
  if (i < text.size() && text[i] == '.' && digit_at(text, i + 1)) {
    ++i;
    while (digit_at(text, i))
      digits.add_fraction_digit(text[i++]);
  }
  // "75%" is 75: GSM8K golds write percentages as plain numbers.
  if (i < text.size() && text[i] == '%') ++i;
  return lexed{digits.value(), i};
}

std::optional<lexed> lex_signed(std::string_view text, std::size_t pos, bool in_answer);

// "\frac{1}{2}" (and \dfrac, \tfrac), as written inside \boxed{}.
std::optional<lexed> lex_latex_fraction(std::string_view text, std::size_t pos) {
  std::size_t i = pos;
  for (std::string_view command : {"\\frac{", "\\dfrac{", "\\tfrac{"}) {
    if (starts_with_at(text, i, command)) {
      i += command.size();
      break;
    }
  }
  if (i == pos) return std::nullopt;
  const auto numerator = lex_signed(text, i, false);
  if (!numerator || !starts_with_at(text, numerator->end, "}{")) return std::nullopt;
  const auto denominator = lex_signed(text, numerator->end + 2, false);
  if (!denominator || !starts_with_at(text, denominator->end, "}")) return std::nullopt;
  if (denominator->value == 0) return std::nullopt;
  return lexed{numerator->value / denominator->value, denominator->end + 1};
}

// A number with its sign and currency, starting exactly at `pos`: "-5", "-$10,000", "$-5",
// "\$18", "−5". Inside a marker's answer (`in_answer`) "19/3" and \frac are evaluated as
// fractions; elsewhere a slash is a unit ("miles/hour") or a date more often than a fraction.
std::optional<lexed> lex_signed(std::string_view text, std::size_t pos, bool in_answer) {
  std::size_t i = pos;
  bool negative = false;
  auto take_sign = [&] {
    if (i < text.size() && text[i] == '+') {
      ++i;
      return true;
    }
    const std::size_t minus = minus_len_at(text, i);
    if (minus == 0) return false;
    negative = true;
    i += minus;
    return true;
  };
  const bool signed_first = take_sign();
  if (starts_with_at(text, i, "\\$")) {
    i += 2;
  } else if (i < text.size() && text[i] == '$') {
    ++i;
  }
  if (!signed_first) take_sign();

  std::optional<lexed> number;
  if (in_answer && i < text.size() && text[i] == '\\') {
    number = lex_latex_fraction(text, i);
  } else {
    number = lex_magnitude(text, i);
    if (number && in_answer && number->end < text.size() && text[number->end] == '/') {
      const auto denominator = lex_magnitude(text, number->end + 1);
      if (denominator && denominator->value != 0) {
        number = lexed{number->value / denominator->value, denominator->end};
      }
    }
  }
  if (!number) return std::nullopt;
  if (negative) number->value = -number->value;
  return number;
}

// Skips what may sit between a marker and its number on the same line: spaces, a colon, bold
// markers, currency, and LaTeX openers ("The answer is: **$\(18\)**", "\boxed{\text{18}}").
std::size_t skip_decorations(std::string_view text, std::size_t pos, std::size_t end) {
  // "\$" is not here: it is the number's own currency sign, left to lex_signed so that "\$-5"
  // keeps its sign.
  static constexpr std::array<std::string_view, 7> kLatexOpeners = {
      "\\(", "\\[", "\\text{", "\\textbf{", "\\mathbf{", "\\mathrm{", "\\left("};
  std::size_t i = pos;
  while (i < end) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == ':' || c == '*' || c == '$' || c == '{') {
      ++i;
      continue;
    }
    if (c != '\\') break;
    bool matched = false;
    for (std::string_view opener : kLatexOpeners) {
      if (starts_with_at(text, i, opener)) {
        i += opener.size();
        matched = true;
        break;
      }
    }
    if (!matched) break;
  }
  return i;
}

bool ends_clause(std::string_view text, std::size_t pos) {
  const char c = text[pos];
  if (c == '\n' || c == '\r') return true;
  if (c == '.' || c == '!' || c == '?' || c == ';') return !digit_at(text, pos + 1);
  if (c == ',') return pos + 1 >= text.size() || text[pos + 1] == ' ';
  return false;
}

// The number a marker announces, read from `pos` up to `end`. The number must follow the marker
// directly (decorations aside). Models often show the arithmetic after the marker ("The answer
// is 3 + 4 = 7."), so the number after the clause's last '=' replaces the first one.
std::optional<double> answer_after_marker(std::string_view text, std::size_t pos, std::size_t end) {
  const std::string_view bounded = text.substr(0, end);
  const auto first = lex_signed(bounded, skip_decorations(bounded, pos, end), true);
  if (!first) return std::nullopt;
  double value = first->value;
  std::size_t i = first->end;
  while (i < end && !ends_clause(bounded, i)) {
    // Only an equals sign gives a result; "<=", ">=", "!=" and "==" compare.
    const bool is_result = bounded[i] == '=' && bounded[i - 1] != '<' && bounded[i - 1] != '>' &&
                           bounded[i - 1] != '!' && bounded[i - 1] != '=' &&
                           (i + 1 >= end || bounded[i + 1] != '=');
    if (is_result) {
      const auto result = lex_signed(bounded, skip_decorations(bounded, i + 1, end), true);
      if (result) {
        value = result->value;
        i = result->end;
        continue;
      }
    }
    ++i;
  }
  return value;
}

// Bytes at which a marker can be recognised while scanning backwards: the '#' of "####", the
// 'w' of "answer is" (rarer in English than any other of its letters) and the '\' of "\boxed{".
constexpr std::array<bool, 256> kMarkerAnchors = [] {
  std::array<bool, 256> anchors{};
  anchors[static_cast<unsigned char>('#')] = true;
  anchors[static_cast<unsigned char>('w')] = true;
  anchors[static_cast<unsigned char>('W')] = true;
  anchors[static_cast<unsigned char>('\\')] = true;
  return anchors;
}();

// Whether "answer is" (any case, as a whole phrase) has its 'w' at `w`. This covers "The answer
// is", "the final answer is" and "answer is:".
bool answer_is_at(std::string_view text, std::size_t w) {
  constexpr std::string_view kPhrase = "answer is";
  constexpr std::size_t kAnchor = 3;  // index of 'w' in kPhrase
  if (w < kAnchor || w - kAnchor + kPhrase.size() > text.size()) return false;
  const std::size_t begin = w - kAnchor;
  for (std::size_t k = 0; k < kPhrase.size(); ++k) {
    if (to_lower(text[begin + k]) != kPhrase[k]) return false;
  }
  if (begin > 0 && is_alpha(text[begin - 1])) return false;
  const std::size_t after = begin + kPhrase.size();
  return after == text.size() || !is_alpha(text[after]);  // not "answer isn't"
}

// End of the braced group whose '{' is just before `pos` (the text's end when unclosed, as in a
// completion cut off by max_tokens).
std::size_t closing_brace(std::string_view text, std::size_t pos) {
  int depth = 1;
  for (std::size_t i = pos; i < text.size(); ++i) {
    if (text[i] == '{') {
      ++depth;
    } else if (text[i] == '}' && --depth == 0) {
      return i;
    }
  }
  return text.size();
}

std::optional<double> last_marker_answer(std::string_view text) {
  std::size_t i = text.size();
  while (i > 0) {
    --i;
    if (!kMarkerAnchors[static_cast<unsigned char>(text[i])]) continue;
    const char c = text[i];
    if (c == '#') {
      std::size_t run = i;
      while (run > 0 && text[run - 1] == '#')
        --run;
      if (i + 1 - run >= 4) {
        if (auto value = answer_after_marker(text, i + 1, text.size())) return value;
      }
      i = run;
    } else if (c == '\\') {
      std::size_t brace = i + 1;
      if (!starts_with_at(text, brace, "boxed")) continue;
      brace += 5;
      while (brace < text.size() && text[brace] == ' ')
        ++brace;
      if (brace >= text.size() || text[brace] != '{') continue;
      const std::size_t content = brace + 1;
      if (auto value = answer_after_marker(text, content, closing_brace(text, content))) {
        return value;
      }
    } else if (answer_is_at(text, i)) {
      if (auto value = answer_after_marker(text, i + 6, text.size())) return value;
      i -= 3;
    }
  }
  return std::nullopt;
}

// Characters a number's digits may be made of; a run of them is lexed as a whole so that scanning
// back from the end splits "1,2" and "1,234" exactly as reading forward would.
bool in_digit_run(char c) {
  return is_digit(c) || c == ',' || c == '.' || c == '{' || c == '}';
}

// A '-' just before a number is a sign unless it follows an operand ("16-7", "(a)-3").
bool is_sign_context(std::string_view text, std::size_t sign) {
  if (sign == 0) return true;
  const char before = text[sign - 1];
  return !is_alnum(before) && before != ')' && before != ']';
}

std::size_t minus_len_before(std::string_view text, std::size_t pos) {
  if (pos >= 1 && text[pos - 1] == '-') return 1;
  if (pos >= kUnicodeMinus.size() && text.substr(pos - kUnicodeMinus.size(), 3) == kUnicodeMinus) {
    return kUnicodeMinus.size();
  }
  return 0;
}

// Whether the magnitude starting at `start` is negated by what precedes it: "-5", "-$5",
// "-\$5", "$-5", "−5".
bool negated_before(std::string_view text, std::size_t start) {
  std::size_t i = start;
  std::size_t minus = minus_len_before(text, i);
  if (minus == 0) {
    if (i == 0 || text[i - 1] != '$') return false;
    --i;
    if (i > 0 && text[i - 1] == '\\') --i;
    minus = minus_len_before(text, i);
    if (minus == 0) return false;
  }
  return is_sign_context(text, i - minus);
}

std::optional<double> last_number(std::string_view text) {
  std::size_t last_digit = text.size();
  while (last_digit > 0 && !is_digit(text[last_digit - 1]))
    --last_digit;
  if (last_digit == 0) return std::nullopt;
  --last_digit;
  std::size_t run = last_digit;
  while (run > 0 && in_digit_run(text[run - 1]))
    --run;

  std::optional<lexed> last;
  std::size_t last_start = run;
  for (std::size_t i = run; i <= last_digit;) {
    if (auto number = lex_magnitude(text, i)) {
      last = number;
      last_start = i;
      i = number->end;
    } else {
      ++i;
    }
  }
  // The run ends in a digit, so lexing it always yields a number.
  double value = last->value;
  if (last_start == run && negated_before(text, run)) value = -value;
  return value;
}

extraction make_extraction(double value, answer_source source) {
  return extraction{value, canonical_text(value), source};
}

}  // namespace

std::string_view truncate_at_stop(std::string_view text, const std::vector<std::string>& stops) {
  std::size_t cut = text.size();
  for (const std::string& stop : stops) {
    if (stop.empty()) continue;  // an empty stop would erase every completion
    // Only an occurrence that starts before the current cut can move it.
    const std::size_t window = std::min(text.size(), cut + stop.size() - 1);
    const std::size_t found = text.substr(0, window).find(stop);
    if (found != std::string_view::npos) cut = found;
  }
  return text.substr(0, cut);
}

std::string_view remove_reasoning(std::string_view text, std::string& scratch) {
  if (text.find('<') == std::string_view::npos) return text;

  std::string_view kept;  // the only kept piece so far, while there is one
  bool in_scratch = false;
  auto keep = [&](std::string_view piece) {
    if (piece.empty()) return;
    if (!in_scratch && kept.empty()) {
      kept = piece;
      return;
    }
    if (!in_scratch) {
      scratch.assign(kept);
      in_scratch = true;
    }
    // A space where the block was, so "12<think>…</think>34" does not read as 1234.
    scratch += ' ';
    scratch += piece;
  };

  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find(kThinkOpen, pos);
    const std::size_t close = text.find(kThinkClose, pos);
    if (close < open) {
      // A stray close tag: the prompt opened the block, so all before it is reasoning.
      kept = {};
      in_scratch = false;
      scratch.clear();
      pos = close + kThinkClose.size();
      continue;
    }
    if (open == std::string_view::npos) {
      keep(text.substr(pos));
      break;
    }
    keep(text.substr(pos, open - pos));
    const std::size_t end = text.find(kThinkClose, open + kThinkOpen.size());
    if (end == std::string_view::npos) break;  // unclosed: the model never left its reasoning
    pos = end + kThinkClose.size();
  }
  if (in_scratch) return scratch;
  return kept;
}

extraction extract_answer(std::string_view text) {
  if (auto value = last_marker_answer(text)) return make_extraction(*value, answer_source::marker);
  if (auto value = last_number(text)) return make_extraction(*value, answer_source::last_number);
  return extraction{std::nullopt, std::string(kInvalid), answer_source::none};
}

extraction extract_final_answer(std::string_view completion,
                                const std::vector<std::string>& stops) {
  // Reasoning goes first: a thinking model may write "Q:" inside <think>, and cutting there
  // would leave an unclosed block that hides the real answer after </think>.
  std::string scratch;  // stays unallocated unless a think block sits mid-text
  return extract_answer(truncate_at_stop(remove_reasoning(completion, scratch), stops));
}

std::optional<double> parse_number(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                           text.back() == '\r')) {
    text.remove_suffix(1);
  }
  const auto number = lex_signed(text, 0, true);
  if (!number) return std::nullopt;
  std::size_t end = number->end;
  if (end < text.size() && text[end] == '.') ++end;  // "18."
  if (end != text.size()) return std::nullopt;
  return number->value;
}

bool same_number(double a, double b) {
  if (a == b) return true;
  if (!std::isfinite(a) || !std::isfinite(b)) return false;  // inf - 1e308 is inf, "within" inf
  constexpr double kRelativeTolerance = 1e-9;
  return std::fabs(a - b) <= kRelativeTolerance * std::max(std::fabs(a), std::fabs(b));
}

std::string canonical_text(double value) {
  std::array<char, 64> buffer{};
  char* const last = buffer.data() + buffer.size();
  constexpr double kInt64Limit = 9.2e18;
  char* end = nullptr;
  if (std::isfinite(value) && std::trunc(value) == value && std::fabs(value) < kInt64Limit) {
    end = std::to_chars(buffer.data(), last, static_cast<std::int64_t>(value)).ptr;  // -0 -> "0"
  } else {
    end = std::to_chars(buffer.data(), last, value).ptr;
  }
  return std::string(buffer.data(), end);
}

}  // namespace ys::numeric
