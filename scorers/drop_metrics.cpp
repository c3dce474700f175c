#include "scorers/drop_metrics.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>
#include <type_traits>

#include "scorers/assignment.h"
#include "scorers/unicode.h"

namespace ys::drop {
namespace {

// Python's \w, str.isspace(), str.lower() and decimal digits come from ys::unicode; the ASCII
// classes below are the DROP rules' own.

// Bits of the ASCII classification table.
constexpr std::uint8_t kPunct = 1;       // string.punctuation
constexpr std::uint8_t kFloatSpace = 2;  // what float() strips: C isspace()

constexpr std::array<std::uint8_t, 128> make_ascii_classes() {
  std::array<std::uint8_t, 128> classes{};
  const auto mark = [&classes](std::string_view chars, std::uint8_t bit) {
    for (const char c : chars)
      classes[static_cast<unsigned char>(c)] |= bit;
  };
  mark("\t\n\v\f\r ", kFloatSpace);
  mark("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", kPunct);
  return classes;
}
constexpr std::array<std::uint8_t, 128> kAscii = make_ascii_classes();

bool ascii_has(char c, std::uint8_t bit) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x80 && (kAscii[byte] & bit) != 0;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_ascii(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// --- Python's float() and str(float)
// --------------------------------------------------------------

bool iequals_ascii(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] + ('a' - 'A')) : s[i];
    if (c != lower[i]) return false;
  }
  return true;
}

// float() on text already reduced to ASCII. Returns false where float() raises; with `value`,
// also converts.
bool parse_ascii_float(std::string_view s, double* value) {
  // Underscores must sit between two digits; they are then dropped. This is checked before the
  // whitespace is stripped, as CPython does.
  std::array<char, 64> small{};
  std::string large;
  if (s.find('_') != std::string_view::npos) {
    char* out = small.data();
    if (s.size() > small.size()) {
      large.resize(s.size());
      out = large.data();
    }
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '_') {
        if (i == 0 || !is_digit(s[i - 1]) || i + 1 == s.size() || !is_digit(s[i + 1])) {
          return false;
        }
      } else {
        out[n++] = s[i];
      }
    }
    s = std::string_view(out, n);
  }
  while (!s.empty() && ascii_has(s.front(), kFloatSpace))
    s.remove_prefix(1);
  while (!s.empty() && ascii_has(s.back(), kFloatSpace))
    s.remove_suffix(1);
  if (s.empty()) return false;

  bool negative = false;
  if (s.front() == '+' || s.front() == '-') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (iequals_ascii(s, "inf") || iequals_ascii(s, "infinity")) {
    if (value) *value = negative ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  if (iequals_ascii(s, "nan")) {
    if (value) *value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }

  std::size_t i = 0;
  std::size_t int_digits = 0;
  std::size_t frac_digits = 0;
  while (i < s.size() && is_digit(s[i]))
    ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i]))
      ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return false;
  const std::size_t mantissa_end = i;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && is_digit(s[i]))
      ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  if (i != s.size()) return false;
  if (value == nullptr) return true;

  double x = 0.0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec == std::errc::result_out_of_range) {
    // from_chars leaves x alone where CPython returns inf or (+/-)0: tell overflow from
    // underflow by the decimal magnitude, which is far above 0 or far below it in those cases.
    // The value is 0.d1d2... * 10^(magnitude + exponent), d1 being the first nonzero digit.
    long long magnitude = 0;
    std::size_t k = 0;
    while (k < int_digits && s[k] == '0')
      ++k;
    if (k < int_digits) {
      magnitude = static_cast<long long>(int_digits - k);
    } else {
      for (k = int_digits + 1; k < mantissa_end && s[k] == '0'; ++k)
        --magnitude;
    }
    long long exponent = 0;
    if (mantissa_end < s.size()) {
      std::size_t e = mantissa_end + 1;
      const bool exp_negative = s[e] == '-';
      if (s[e] == '+' || s[e] == '-') ++e;
      for (; e < s.size(); ++e)
        exponent = std::min(exponent * 10 + (s[e] - '0'), 1LL << 40);
      if (exp_negative) exponent = -exponent;
    }
    x = magnitude + exponent > 0 ? HUGE_VAL : 0.0;
  } else if (ec != std::errc() || end != s.data() + s.size()) {
    return false;  // not reachable for text that passed the checks above
  }
  *value = negative ? -x : x;
  return true;
}

// Appends Python's repr of x; returns the number of characters written (at most 32).
std::size_t write_python_float(double x, char* out) {
  const auto put = [out](std::string_view text) {
    std::copy(text.begin(), text.end(), out);
    return text.size();
  };
  if (std::isnan(x)) return put("nan");
  if (std::isinf(x)) return put(x < 0 ? "-inf" : "inf");
  // to_chars's shortest scientific form gives the same digits as CPython's repr (both are the
  // shortest string that round-trips, nearest to the true value); only the layout differs.
  std::array<char, 40> sci{};
  const auto result =
      std::to_chars(sci.data(), sci.data() + sci.size(), x, std::chars_format::scientific);
  const std::string_view text(sci.data(), static_cast<std::size_t>(result.ptr - sci.data()));
  std::size_t pos = 0;
  char* const start = out;
  if (text[pos] == '-') {
    *out++ = '-';
    ++pos;
  }
  std::array<char, 20> digits{};
  std::size_t nd = 0;
  for (; pos < text.size() && text[pos] != 'e'; ++pos) {
    if (text[pos] != '.') digits[nd++] = text[pos];
  }
  int exponent = 0;
  std::from_chars(text.data() + pos + 1 + (text[pos + 1] == '+' ? 1 : 0), text.data() + text.size(),
                  exponent);
  const int decpt = exponent + 1;  // digits are 0.d1d2... * 10^decpt
  const auto put_digits = [&](std::size_t from, std::size_t to) {
    for (std::size_t k = from; k < to; ++k)
      *out++ = digits[k];
  };
  if (decpt > -4 && decpt <= 16) {
    const std::size_t point = decpt > 0 ? static_cast<std::size_t>(decpt) : 0;
    if (decpt <= 0) {
      *out++ = '0';
      *out++ = '.';
      for (int k = 0; k < -decpt; ++k)
        *out++ = '0';
      put_digits(0, nd);
    } else if (point >= nd) {
      put_digits(0, nd);
      for (std::size_t k = nd; k < point; ++k)
        *out++ = '0';
      *out++ = '.';
      *out++ = '0';
    } else {
      put_digits(0, point);
      *out++ = '.';
      put_digits(point, nd);
    }
  } else {
    *out++ = digits[0];
    if (nd > 1) {
      *out++ = '.';
      put_digits(1, nd);
    }
    *out++ = 'e';
    *out++ = exponent < 0 ? '-' : '+';
    const int magnitude = exponent < 0 ? -exponent : exponent;
    if (magnitude < 10) *out++ = '0';
    out = std::to_chars(out, out + 4, magnitude).ptr;
  }
  return static_cast<std::size_t>(out - start);
}

// float() on code points: CPython first maps non-ASCII whitespace to ' ' and Unicode decimal
// digits to ASCII ones, and rejects any other non-ASCII character.
bool parse_unicode_float(std::u32string_view s, std::string& ascii, double* value) {
  ascii.clear();
  for (const char32_t c : s) {
    if (c < 127) {
      ascii.push_back(static_cast<char>(c));
    } else if (unicode::is_space(c)) {
      ascii.push_back(' ');
    } else if (const int d = unicode::decimal_value(c); d >= 0) {
      ascii.push_back(static_cast<char>('0' + d));
    } else {
      return false;
    }
  }
  return parse_ascii_float(ascii, value);
}

// Whether a normalized word (UTF-8, no whitespace) reads as a number.
bool word_is_number(std::string_view word, std::u32string& cps, std::string& ascii) {
  const unsigned char first = static_cast<unsigned char>(word.front());
  if (first < 0x80) {
    // Cheap rejection of ordinary words: a number starts with one of these.
    const bool may_start_number = is_digit(static_cast<char>(first)) || first == '.' ||
                                  first == '+' || first == '-' || first == 'i' || first == 'n';
    if (!may_start_number) return false;
  }
  if (is_ascii(word)) return parse_ascii_float(word, nullptr);
  unicode::decode(word, cps);
  return parse_unicode_float(cps, ascii, nullptr);
}

// --- Normalization -------------------------------------------------------------------------------

// Collects the words of one normalized span.
struct word_sink {
  std::string& text;
  std::size_t span_offset;
  std::vector<prepared_spans::word_ref>* words;  // null when only the text is wanted
  std::u32string& cps;
  std::string& ascii;

  void add(std::string_view word, int is_number) {  // is_number: 1, 0, or -1 = find out
    if (text.size() > span_offset) text.push_back(' ');
    const std::size_t offset = text.size();
    text.append(word);
    if (words != nullptr) {
      const bool number = is_number >= 0 ? is_number == 1 : word_is_number(word, cps, ascii);
      words->push_back(
          {static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(word.size()), number});
    }
  }
};

bool is_article(std::string_view run) {
  return run == "a" || run == "an" || run == "the";
}

bool is_article(std::u32string_view run) {
  return run == U"a" || run == U"an" || run == U"the";
}

// Splits at whitespace and at the articles (which Python replaces with a space) and emits the
// pieces in between. A word run is maximal here, so it is bounded by \b on both sides.
template <class Char, class Emit>
void split_words(std::basic_string_view<Char> s, const Emit& emit) {
  std::size_t piece = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const char32_t c = static_cast<std::make_unsigned_t<Char>>(s[i]);
    if (unicode::is_space(c)) {
      if (i > piece) emit(s.substr(piece, i - piece));
      piece = ++i;
    } else if (unicode::is_word(c)) {
      std::size_t j = i + 1;
      while (j < s.size() && unicode::is_word(static_cast<std::make_unsigned_t<Char>>(s[j])))
        ++j;
      if (is_article(s.substr(i, j - i))) {
        if (i > piece) emit(s.substr(piece, i - piece));
        piece = j;
      }
      i = j;
    } else {
      ++i;
    }
  }
  if (s.size() > piece) emit(s.substr(piece));
}

struct normalizer_scratch {
  std::string lowered;
  std::string stripped;
  std::u32string cps;
  std::u32string lowered_cps;
  std::u32string stripped_cps;
  std::string ascii;
  std::string word;
  std::u32string word_cps;
};

void add_number(double x, word_sink& sink) {
  std::array<char, 40> buf{};
  sink.add(std::string_view(buf.data(), write_python_float(x, buf.data())), 1);
}

// The usual case: an ASCII token, processed on bytes without decoding.
void normalize_ascii_token(std::string_view token, normalizer_scratch& scratch, word_sink& sink) {
  std::string& lowered = scratch.lowered;
  lowered.assign(token);
  bool has_punct = false;
  for (char& c : lowered) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
    has_punct = has_punct || ascii_has(c, kPunct);
  }
  double value = 0;
  if (parse_ascii_float(lowered, &value)) return add_number(value, sink);
  std::string_view text = lowered;
  if (has_punct) {
    scratch.stripped.clear();
    for (const char c : lowered) {
      if (!ascii_has(c, kPunct)) scratch.stripped.push_back(c);
    }
    text = scratch.stripped;
    if (parse_ascii_float(text, &value)) return add_number(value, sink);
  }
  split_words(text, [&](std::string_view word) { sink.add(word, -1); });
}

void normalize_unicode_token(std::string_view token, normalizer_scratch& scratch, word_sink& sink) {
  unicode::decode(token, scratch.cps);
  unicode::lower(scratch.cps, scratch.lowered_cps);
  std::u32string_view text = scratch.lowered_cps;
  double value = 0;
  if (parse_unicode_float(text, scratch.ascii, &value)) return add_number(value, sink);
  scratch.stripped_cps.clear();
  for (const char32_t c : text) {
    if (c >= 0x80 || !ascii_has(static_cast<char>(c), kPunct)) scratch.stripped_cps.push_back(c);
  }
  text = scratch.stripped_cps;
  if (parse_unicode_float(text, scratch.ascii, &value)) return add_number(value, sink);
  split_words(text, [&](std::u32string_view word) {
    scratch.word.clear();
    for (const char32_t c : word)
      unicode::append_utf8(c, scratch.word);
    sink.add(scratch.word, -1);
  });
}

// Appends the normalized words of `span` to sink.text, separated by single spaces.
void normalize_span(std::string_view span, normalizer_scratch& scratch, word_sink& sink) {
  std::size_t start = 0;
  while (start <= span.size()) {
    std::size_t end = start;
    while (end < span.size() && span[end] != ' ' && span[end] != '-')
      ++end;
    const std::string_view token = span.substr(start, end - start);
    if (!token.empty()) {
      if (is_ascii(token)) {
        normalize_ascii_token(token, scratch, sink);
      } else {
        normalize_unicode_token(token, scratch, sink);
      }
    }
    start = end + 1;
  }
}

normalizer_scratch& thread_scratch() {
  thread_local normalizer_scratch scratch;
  return scratch;
}

// --- Scoring -------------------------------------------------------------------------------------

std::string_view word_text(const prepared_spans& p, const prepared_spans::word_ref& w) {
  return std::string_view(p.text()).substr(w.offset, w.size);
}

// Token-set F1 of one (gold, predicted) pair, 0 where the gold names numbers and the prediction
// none of them.
double pair_f1(const prepared_spans& pred, const prepared_spans::span_ref& p,
               const prepared_spans& gold, const prepared_spans::span_ref& g) {
  const auto* pw = pred.bag_words().data() + p.bag_offset;
  const auto* gw = gold.bag_words().data() + g.bag_offset;
  std::size_t i = 0;
  std::size_t j = 0;
  std::size_t common = 0;
  bool shared_number = false;
  while (i < p.bag_size && j < g.bag_size) {
    const int cmp = word_text(pred, pw[i]).compare(word_text(gold, gw[j]));
    if (cmp < 0) {
      ++i;
    } else if (cmp > 0) {
      ++j;
    } else {
      ++common;
      shared_number = shared_number || gw[j].is_number;
      ++i;
      ++j;
    }
  }
  if (g.has_number && !shared_number) return 0.0;
  const double precision =
      p.bag_size == 0 ? 1.0 : static_cast<double>(common) / static_cast<double>(p.bag_size);
  const double recall =
      g.bag_size == 0 ? 1.0 : static_cast<double>(common) / static_cast<double>(g.bag_size);
  if (precision == 0.0 && recall == 0.0) return 0.0;
  return (2 * precision * recall) / (precision + recall);
}

// numpy's sum of a float64 array (pairwise, with eight accumulators per block), so that the mean
// matches np.mean to the last bit before rounding.
double numpy_sum(const double* a, std::size_t n) {
  if (n < 8) {
    double sum = -0.0;
    for (std::size_t i = 0; i < n; ++i)
      sum += a[i];
    return sum;
  }
  if (n <= 128) {
    std::array<double, 8> r{};
    for (std::size_t k = 0; k < 8; ++k)
      r[k] = a[k];
    std::size_t i = 8;
    for (; i < n - n % 8; i += 8) {
      for (std::size_t k = 0; k < 8; ++k)
        r[k] += a[i + k];
    }
    double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i)
      sum += a[i];
    return sum;
  }
  std::size_t half = n / 2;
  half -= half % 8;
  return numpy_sum(a, half) + numpy_sum(a + half, n - half);
}

// numpy's round(x, 2): scale, round half to even, unscale.
double round2(double x) {
  return std::nearbyint(x * 100.0) / 100.0;
}

struct scoring_scratch {
  std::vector<double> matrix;
  std::vector<double> slots;
  assignment::solver solver;
  prepared_spans predicted;
};

scoring_scratch& thread_scoring_scratch() {
  thread_local scoring_scratch scratch;
  return scratch;
}

bool contains_span(const prepared_spans& set, std::string_view text) {
  for (std::size_t i = 0; i < set.size(); ++i) {
    if (set.normalized(i) == text) return true;
  }
  return false;
}

bool python_blank(std::string_view s, std::u32string& cps) {
  if (is_ascii(s)) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return unicode::is_space(static_cast<unsigned char>(c)); });
  }
  unicode::decode(s, cps);
  return std::all_of(cps.begin(), cps.end(), [](char32_t c) { return unicode::is_space(c); });
}

// str() of a JSON scalar as Python would print the value json.load gives.
std::string python_str(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "None";
  if (v.is_number_integer()) return v.dump();
  if (v.is_number_float()) return python_float_repr(v.get<double>());
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  throw std::invalid_argument("drop: expected a string or a number in an answer, got " + v.dump());
}

bool python_truthy(const nlohmann::json& v) {
  if (v.is_null()) return false;
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0.0;
  return !v.empty();
}

}  // namespace

// --- Public interface ----------------------------------------------------------------------------

std::string normalize_answer(std::string_view text) {
  normalizer_scratch& scratch = thread_scratch();
  std::string out;
  word_sink sink{out, 0, nullptr, scratch.word_cps, scratch.ascii};
  normalize_span(text, scratch, sink);
  return out;
}

std::optional<double> parse_python_float(std::string_view text) {
  double value = 0;
  if (is_ascii(text)) {
    if (!parse_ascii_float(text, &value)) return std::nullopt;
    return value;
  }
  normalizer_scratch& scratch = thread_scratch();
  unicode::decode(text, scratch.cps);
  if (!parse_unicode_float(scratch.cps, scratch.ascii, &value)) return std::nullopt;
  return value;
}

std::string python_float_repr(double x) {
  std::array<char, 40> buf{};
  return std::string(buf.data(), write_python_float(x, buf.data()));
}

std::string_view prepared_spans::normalized(std::size_t i) const {
  const span_ref& s = spans_[i];
  return std::string_view(text_).substr(s.text_offset, s.text_size);
}

void prepared_spans::assign(const std::vector<std::string>& spans) {
  text_.clear();
  bag_words_.clear();
  spans_.clear();
  normalizer_scratch& scratch = thread_scratch();
  for (const std::string& span : spans) {
    const std::size_t text_offset = text_.size();
    const std::size_t bag_offset = bag_words_.size();
    word_sink sink{text_, text_offset, &bag_words_, scratch.word_cps, scratch.ascii};
    normalize_span(span, scratch, sink);
    // The bag: this span's words, sorted and without repeats.
    const auto first = bag_words_.begin() + static_cast<std::ptrdiff_t>(bag_offset);
    const auto less = [this](const word_ref& a, const word_ref& b) {
      return std::string_view(text_).substr(a.offset, a.size) <
             std::string_view(text_).substr(b.offset, b.size);
    };
    const auto equal = [this](const word_ref& a, const word_ref& b) {
      return std::string_view(text_).substr(a.offset, a.size) ==
             std::string_view(text_).substr(b.offset, b.size);
    };
    std::sort(first, bag_words_.end(), less);
    bag_words_.erase(std::unique(first, bag_words_.end(), equal), bag_words_.end());
    const bool has_number =
        std::any_of(bag_words_.begin() + static_cast<std::ptrdiff_t>(bag_offset), bag_words_.end(),
                    [](const word_ref& w) { return w.is_number; });
    spans_.push_back({static_cast<std::uint32_t>(text_offset),
                      static_cast<std::uint32_t>(text_.size() - text_offset),
                      static_cast<std::uint32_t>(bag_offset),
                      static_cast<std::uint32_t>(bag_words_.size() - bag_offset), has_number});
  }
}

metrics score_prepared(const prepared_spans& predicted, const prepared_spans& gold) {
  metrics m;
  const std::size_t n_pred = predicted.size();
  const std::size_t n_gold = gold.size();
  bool same = n_pred == n_gold;
  for (std::size_t i = 0; same && i < n_pred; ++i) {
    same = contains_span(gold, predicted.normalized(i));
  }
  for (std::size_t i = 0; same && i < n_gold; ++i) {
    same = contains_span(predicted, gold.normalized(i));
  }
  m.em = same ? 1.0 : 0.0;

  const std::size_t slots = std::max(n_pred, n_gold);
  if (slots == 0) {
    m.f1 = std::numeric_limits<double>::quiet_NaN();  // numpy's mean of nothing
    return m;
  }
  const auto& ps = predicted.spans();
  const auto& gs = gold.spans();
  double f1 = 0.0;
  if (n_pred == 0 || n_gold == 0) {
    f1 = 0.0;
  } else if (n_pred == 1 || n_gold == 1) {
    // One side has a single span: the assignment takes the best pair and every other slot is 0,
    // so the sum is exact in any order.
    double best = 0.0;
    for (const auto& g : gs) {
      for (const auto& p : ps)
        best = std::max(best, pair_f1(predicted, p, gold, g));
    }
    f1 = best / static_cast<double>(slots);
  } else {
    scoring_scratch& scratch = thread_scoring_scratch();
    scratch.matrix.resize(n_gold * n_pred);
    for (std::size_t g = 0; g < n_gold; ++g) {
      for (std::size_t p = 0; p < n_pred; ++p) {
        scratch.matrix[g * n_pred + p] = pair_f1(predicted, ps[p], gold, gs[g]);
      }
    }
    const assignment::result& best = scratch.solver.solve(scratch.matrix, n_gold, n_pred);
    scratch.slots.assign(slots, 0.0);
    for (const auto& [g, p] : best.pairs)
      scratch.slots[g] = scratch.matrix[g * n_pred + p];
    f1 = numpy_sum(scratch.slots.data(), slots) / static_cast<double>(slots);
  }
  m.f1 = round2(f1);
  return m;
}

metrics score_spans(const std::vector<std::string>& predicted,
                    const std::vector<std::string>& gold) {
  return score_prepared(prepared_spans(predicted), prepared_spans(gold));
}

gold_answer gold_from_json(const nlohmann::json& answer) {
  if (!answer.is_object()) throw std::invalid_argument("drop: an answer must be a JSON object");
  gold_answer gold;
  if (const auto number = answer.find("number"); number != answer.end() && python_truthy(*number)) {
    gold.spans.push_back(python_str(*number));
    gold.type = "number";
    return gold;
  }
  if (const auto spans = answer.find("spans"); spans != answer.end() && python_truthy(*spans)) {
    if (!spans->is_array()) throw std::invalid_argument("drop: \"spans\" must be an array");
    for (const auto& span : *spans)
      gold.spans.push_back(python_str(span));
    gold.type = gold.spans.size() == 1 ? "span" : "spans";
    return gold;
  }
  if (const auto date = answer.find("date"); date != answer.end()) {
    if (!date->is_object()) throw std::invalid_argument("drop: \"date\" must be an object");
    // The official "{day} {month} {year}" keeps empty parts as extra spaces, which
    // normalization and the blank test both ignore; dropping them reads better and scores the
    // same.
    std::string text;
    for (const char* key : {"day", "month", "year"}) {
      const auto part = date->find(key);
      if (part == date->end()) continue;
      const std::string value = python_str(*part);
      if (value.empty()) continue;
      if (!text.empty()) text.push_back(' ');
      text += value;
    }
    gold.spans.push_back(std::move(text));
    gold.type = "date";
    return gold;
  }
  throw std::invalid_argument("drop: answer has no number, spans or date: " + answer.dump());
}

std::vector<gold_answer> candidates_from_json(const nlohmann::json& qa_pair) {
  std::vector<gold_answer> candidates;
  candidates.push_back(gold_from_json(qa_pair.at("answer")));
  if (const auto validated = qa_pair.find("validated_answers");
      validated != qa_pair.end() && validated->is_array()) {
    for (const auto& answer : *validated)
      candidates.push_back(gold_from_json(answer));
  }
  return candidates;
}

prepared_question::prepared_question(const std::vector<gold_answer>& candidates) {
  candidates_.reserve(candidates.size());
  std::u32string cps;
  for (const gold_answer& gold : candidates) {
    candidate c;
    c.spans.assign(gold.spans);
    c.type = gold.type;
    // The official loop reads spans[0] and would fail on an empty list; such a candidate
    // cannot count here.
    c.counts = !gold.spans.empty() && !python_blank(gold.spans.front(), cps);
    candidates_.push_back(std::move(c));
  }
}

question_score score_question(const prepared_spans& predicted, const prepared_question& gold) {
  question_score score;
  const prepared_question::candidate* typed = nullptr;
  for (const auto& candidate : gold.candidates()) {
    if (!candidate.counts) continue;
    const metrics m = score_prepared(predicted, candidate.spans);
    score.em = std::max(score.em, m.em);
    score.f1 = std::max(score.f1, m.f1);
    if (score.em == m.em || score.f1 == m.f1) typed = &candidate;
  }
  if (typed != nullptr) score.type = typed->type;
  return score;
}

question_score score_question(const std::vector<std::string>& predicted,
                              const prepared_question& gold) {
  prepared_spans& scratch = thread_scoring_scratch().predicted;
  scratch.assign(predicted);
  return score_question(scratch, gold);
}

question_score score_question(const std::vector<std::string>& predicted,
                              const std::vector<gold_answer>& candidates) {
  return score_question(prepared_spans(predicted), prepared_question(candidates));
}

}  // namespace ys::drop
