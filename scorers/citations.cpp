#include "scorers/citations.h"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_set>

#include <fmt/format.h>

#include "scorers/numeric_answer.h"
#include "scorers/unicode.h"

namespace ys::citations {
namespace {

// --- Characters -------------------------------------------------------------------------------
//
// ALCE's normalization runs Python's str.lower(), string.punctuation and re's \b on the model's
// text; curly quotes and accented names are common in it, so \w and lowercasing follow Python's
// tables (ys::unicode) rather than the C locale's classes.

bool is_ascii_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_ascii_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ascii_alnum(char c) {
  return is_ascii_upper(c) || is_ascii_lower(c) || is_ascii_digit(c);
}
bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
char ascii_lower(char c) {
  return is_ascii_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
}

// Python's str.strip() / rstrip() without arguments, on UTF-8.
std::string_view python_rstrip(std::string_view s) {
  while (!s.empty()) {
    std::size_t len = 0;
    if (!unicode::is_space(unicode::decode_before(s, s.size(), &len))) break;
    s.remove_suffix(len);
  }
  return s;
}

std::string_view python_strip(std::string_view s) {
  while (!s.empty()) {
    std::size_t len = 0;
    if (!unicode::is_space(unicode::decode_at(s, 0, &len))) break;
    s.remove_prefix(len);
  }
  return python_rstrip(s);
}

std::string_view rstrip_char(std::string_view s, char c) {
  while (!s.empty() && s.back() == c)
    s.remove_suffix(1);
  return s;
}

// ALCE's `o.rstrip().rstrip(".").rstrip(",")` before a comma split.
std::string_view qampari_rstrip(std::string_view s) {
  return rstrip_char(rstrip_char(python_rstrip(s), '.'), ',');
}

std::string_view trim_ascii(std::string_view s) {
  while (!s.empty() && is_ascii_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_ascii_space(s.back()))
    s.remove_suffix(1);
  return s;
}

// --- Citation markers -------------------------------------------------------------------------

// Group 1 is the inside of the brackets: numbers joined by ',', '-' or an en dash (U+2013).
const RE2& marker_regex() {
  static const RE2 regex("\\[\\s*(\\d+(?:\\s*(?:,|-|\xE2\x80\x93)\\s*\\d+)*)\\s*\\]");
  return regex;
}

struct marker_span {
  std::size_t begin;
  std::size_t end;
  std::string_view inside;
};

std::vector<marker_span> find_markers(std::string_view text) {
  std::vector<marker_span> spans;
  const RE2& regex = marker_regex();
  re2::StringPiece groups[2];
  std::size_t pos = 0;
  while (pos < text.size() && regex.Match(text, pos, text.size(), RE2::UNANCHORED, groups, 2)) {
    const auto begin = static_cast<std::size_t>(groups[0].data() - text.data());
    const std::size_t end = begin + groups[0].size();
    spans.push_back({begin, end, std::string_view(groups[1].data(), groups[1].size())});
    pos = end;
  }
  return spans;
}

// The end of the marker that starts exactly at `pos`, or `pos` when none does.
std::size_t marker_end_at(std::string_view text, std::size_t pos) {
  if (pos >= text.size() || text[pos] != '[') return pos;
  re2::StringPiece match;
  if (!marker_regex().Match(text, pos, text.size(), RE2::ANCHOR_START, &match, 1)) return pos;
  return pos + match.size();
}

int parse_int(std::string_view digits) {
  int value = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range) return INT_MAX;
  return value;
}

// Appends the citations of one marker's inside ("3", "1, 2", "1-3"). Returns whether the marker
// used a non-standard form.
bool read_marker(std::string_view inside, std::vector<int>& out) {
  bool nonstandard = false;
  bool range_pending = false;
  int previous = 0;
  std::size_t i = 0;
  while (i < inside.size()) {
    const char c = inside[i];
    if (is_ascii_digit(c)) {
      std::size_t j = i;
      while (j < inside.size() && is_ascii_digit(inside[j]))
        ++j;
      const int value = parse_int(inside.substr(i, j - i));
      if (range_pending) {
        const long long span = static_cast<long long>(value) - previous + 1;
        if (span >= 2 && span <= kMaxRangeExpansion) {
          for (int v = previous + 1; v <= value; ++v)
            out.push_back(v);
        } else {
          out.push_back(value);  // backwards or absurdly long: the endpoints only
        }
      } else {
        out.push_back(value);
      }
      previous = value;
      range_pending = false;
      i = j;
    } else if (c == ',') {
      nonstandard = true;
      ++i;
    } else if (c == '-') {
      nonstandard = range_pending = true;
      ++i;
    } else if (static_cast<unsigned char>(c) == 0xE2) {  // the en dash, three bytes
      nonstandard = range_pending = true;
      i += 3;
    } else {
      ++i;  // whitespace
    }
  }
  return nonstandard;
}

bool closes_clause(char c) {
  return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == ')';
}

// `text` without the given markers, whitespace tidied (see remove_citation_markers).
std::string without_markers(std::string_view text, const std::vector<marker_span>& markers) {
  std::string joined;
  joined.reserve(text.size());
  std::size_t pos = 0;
  for (const auto& m : markers) {
    joined.append(text.substr(pos, m.begin - pos));
    pos = m.end;
    if (m.end == text.size() || closes_clause(text[m.end])) {
      // "2012 [3]." must read "2012.", not "2012 .".
      while (!joined.empty() && is_ascii_space(joined.back()))
        joined.pop_back();
    } else {
      joined.push_back(' ');  // "a[1]b" must not glue two words
    }
  }
  joined.append(text.substr(pos));

  std::string out;
  out.reserve(joined.size());
  bool pending_space = false;
  for (const char c : joined) {
    if (is_ascii_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// --- Sentence splitting -----------------------------------------------------------------------

bool is_terminator(char c) {
  return c == '.' || c == '!' || c == '?';
}

bool starts_with_at(std::string_view text, std::size_t pos, std::string_view what) {
  return text.substr(pos, what.size()) == what;
}

constexpr std::array<std::string_view, 3> kUtf8Closers = {"\xE2\x80\x9D", "\xE2\x80\x99",
                                                          "\xC2\xBB"};  // ” ’ »
constexpr std::array<std::string_view, 3> kUtf8Openers = {"\xE2\x80\x9C", "\xE2\x80\x98",
                                                          "\xC2\xAB"};  // “ ‘ «

std::size_t skip_closers(std::string_view text, std::size_t pos) {
  for (;;) {
    if (pos < text.size() && std::string_view("\"')]}").find(text[pos]) != std::string_view::npos) {
      ++pos;
      continue;
    }
    bool found = false;
    for (const auto closer : kUtf8Closers) {
      if (starts_with_at(text, pos, closer)) {
        pos += closer.size();
        found = true;
        break;
      }
    }
    if (!found) return pos;
  }
}

// After the last of any citation markers that follow `pos` (spaces allowed before each), or
// `pos` when none does.
std::size_t skip_markers(std::string_view text, std::size_t pos) {
  for (;;) {
    std::size_t q = pos;
    while (q < text.size() && (text[q] == ' ' || text[q] == '\t'))
      ++q;
    const std::size_t end = marker_end_at(text, q);
    if (end == q) return pos;
    pos = end;
  }
}

bool starts_sentence(std::string_view text, std::size_t pos) {
  const char c = text[pos];
  if (is_ascii_upper(c) || is_ascii_digit(c)) return true;
  if (std::string_view("\"'([{").find(c) != std::string_view::npos) return true;
  if (static_cast<unsigned char>(c) < 0x80) return false;
  for (const auto opener : kUtf8Openers) {
    if (starts_with_at(text, pos, opener)) return true;
  }
  std::size_t len = 0;
  const char32_t cp = unicode::decode_at(text, pos, &len);
  // Without a UTF-8 locale a non-ASCII capital cannot be recognised; the sentence then runs on.
  return cp < unicode::kEscapeBase && unicode::is_upper(cp);
}

bool iequals(std::string_view a, std::string_view lowercase) {
  if (a.size() != lowercase.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != lowercase[i]) return false;
  }
  return true;
}

// Abbreviations after which a single '.' does not end a sentence ("no" and "al" are handled
// separately).
constexpr auto kAbbreviations = std::to_array<std::string_view>(
    {"mr",  "mrs", "ms",  "dr",  "prof", "st",  "jr",  "sr",  "mt",     "ft",  "vs",  "etc", "e.g",
     "i.e", "inc", "ltd", "co",  "corp", "gen", "gov", "sen", "rep",    "jan", "feb", "mar", "apr",
     "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "approx", "est", "fig", "vol"});

bool is_listed_abbreviation(std::string_view token) {
  return std::any_of(kAbbreviations.begin(), kAbbreviations.end(),
                     [token](std::string_view a) { return iequals(token, a); });
}

// Letter groups of one or two letters joined by dots: "U.S", "Ph.D", "a.m" (the final dot is
// the one being judged).
bool is_dotted_acronym(std::string_view token) {
  if (token.find('.') == std::string_view::npos) return false;
  std::size_t group = 0;
  for (const char c : token) {
    if (c == '.') {
      if (group == 0) return false;
      group = 0;
    } else if (is_ascii_upper(c) || is_ascii_lower(c)) {
      if (++group > 2) return false;
    } else {
      return false;
    }
  }
  return group != 0;
}

// Whether the '.' at `dot` belongs to an abbreviation, an initial or an acronym (rule 4). `next`
// is where the following sentence would start.
bool dot_is_not_an_end(std::string_view text, std::size_t dot, std::size_t next) {
  std::size_t begin = dot;
  while (begin > 0 && (is_ascii_alnum(text[begin - 1]) || text[begin - 1] == '.'))
    --begin;
  if (begin > 0 && static_cast<unsigned char>(text[begin - 1]) >= 0x80) {
    std::size_t len = 0;
    // "Café." or "Müller." : the token is the tail of a longer word, not an abbreviation.
    if (unicode::is_word(unicode::decode_before(text, begin, &len))) return false;
  }
  std::string_view token = text.substr(begin, dot - begin);
  while (!token.empty() && token.front() == '.')
    token.remove_prefix(1);
  if (token.empty()) return false;

  if (is_dotted_acronym(token)) return true;
  if (token.size() == 1 && is_ascii_upper(token[0]) && token[0] != 'I') return true;
  if (iequals(token, "no")) return is_ascii_digit(text[next]);
  if (iequals(token, "al")) {
    // Only "et al.": the word before must be "et".
    std::size_t p = begin;
    while (p > 0 && (text[p - 1] == ' ' || text[p - 1] == '\t'))
      --p;
    if (p == begin || p < 2 || !iequals(text.substr(p - 2, 2), "et")) return false;
    return p == 2 || !is_ascii_alnum(text[p - 3]);
  }
  return is_listed_abbreviation(token);
}

// --- Lexical judge ----------------------------------------------------------------------------

// Function words that carry no claim content. The negations no/not/nor/never are deliberately
// absent, and the letters an apostrophe splits off ("don't" -> "don", "t") are present.
const std::unordered_set<std::string_view>& stopwords() {
  static const std::unordered_set<std::string_view> words = {
      "a",       "an",    "the",     "and",    "or",     "but",   "if",      "then",    "else",
      "of",      "in",    "on",      "at",     "to",     "for",   "from",    "by",      "with",
      "about",   "as",    "into",    "onto",   "over",   "under", "between", "through", "during",
      "before",  "after", "above",   "below",  "up",     "down",  "out",     "off",     "again",
      "further", "once",  "is",      "are",    "was",    "were",  "be",      "been",    "being",
      "am",      "has",   "have",    "had",    "having", "do",    "does",    "did",     "doing",
      "will",    "would", "shall",   "should", "can",    "could", "may",     "might",   "must",
      "this",    "that",  "these",   "those",  "there",  "here",  "it",      "its",     "itself",
      "he",      "him",   "his",     "she",    "her",    "hers",  "they",    "them",    "their",
      "theirs",  "we",    "us",      "our",    "you",    "your",  "i",       "me",      "my",
      "who",     "whom",  "whose",   "which",  "what",   "when",  "where",   "why",     "how",
      "all",     "any",   "both",    "each",   "few",    "more",  "most",    "other",   "some",
      "such",    "only",  "own",     "same",   "so",     "than",  "too",     "very",    "just",
      "also",    "while", "because", "until",  "s",      "t",     "d",       "ll",      "m",
      "re",      "ve",    "don",     "doesn",  "didn",   "isn",   "wasn",    "aren",    "weren",
      "shan"};
  return words;
}

struct word_bag {
  std::unordered_set<std::string> words;    // content words, numbers included
  std::unordered_set<std::string> numbers;  // the numbers alone
  bool negated = false;                     // no, not, nor, never, or an n't contraction
};

bool is_negation(std::string_view word) {
  return word == "no" || word == "not" || word == "nor" || word == "never";
}

bool is_apostrophe_at(std::string_view text, std::size_t pos, std::size_t* length) {
  if (text[pos] == '\'') {
    *length = 1;
    return true;
  }
  if (starts_with_at(text, pos, "\xE2\x80\x99")) {  // ’
    *length = 3;
    return true;
  }
  return false;
}

word_bag content_words(std::string_view text) {
  word_bag bag;
  std::size_t pos = 0;
  std::string token;
  while (pos < text.size()) {
    std::size_t len = 0;
    const char32_t c = unicode::decode_at(text, pos, &len);
    if (!unicode::is_word(c) || c == '_') {
      pos += len;
      continue;
    }
    // A token: letters and digits, plus ',' and '.' between two digits ("12,717", "3.5").
    token.clear();
    bool numeric = true;
    while (pos < text.size()) {
      const char32_t d = unicode::decode_at(text, pos, &len);
      if (unicode::is_word(d) && d != '_') {
        if (d < 0x80) {
          token.push_back(ascii_lower(static_cast<char>(d)));
          numeric = numeric && is_ascii_digit(static_cast<char>(d));
        } else {
          unicode::append_utf8(d, token);
          numeric = false;
        }
        pos += len;
      } else if ((d == ',' || d == '.') && !token.empty() && is_ascii_digit(token.back()) &&
                 pos + 1 < text.size() && is_ascii_digit(text[pos + 1])) {
        if (d == '.') token.push_back('.');
        ++pos;
      } else {
        break;
      }
    }
    std::size_t apostrophe = 0;
    if (pos < text.size() && is_apostrophe_at(text, pos, &apostrophe)) {
      const std::size_t s = pos + apostrophe;
      std::size_t after_len = 0;
      if (s < text.size() && (s + 1 == text.size() ||
                              !unicode::is_word(unicode::decode_at(text, s + 1, &after_len)))) {
        if (text[s] == 's' || text[s] == 'S') {
          pos = s + 1;  // a possessive: "Bloomberg's" counts as "bloomberg"
        } else if (text[s] == 't' || text[s] == 'T') {
          pos = s + 1;  // "didn't", "won't": a negation, and the verb carries no content
          bag.negated = true;
          continue;
        }
      }
    }
    if (is_negation(token)) bag.negated = true;
    if (stopwords().count(token) != 0) continue;
    if (numeric) {
      bag.numbers.insert(token);
    } else if (token.size() > 3 && token.back() == 's' && token[token.size() - 2] != 's') {
      token.pop_back();
    }
    bag.words.insert(token);
  }
  return bag;
}

}  // namespace

// --- Preprocessing and splitting --------------------------------------------------------------

std::string preprocess_output(std::string_view output) {
  std::string scratch;
  std::string_view text = trim_ascii(ys::numeric::remove_reasoning(output, scratch));
  std::size_t line_end = text.find('\n');
  while (line_end != std::string_view::npos) {
    std::size_t next = line_end + 1;
    while (next < text.size() && text[next] != '\n' && is_ascii_space(text[next]))
      ++next;
    if (next < text.size() && text[next] == '\n') {
      text = text.substr(0, line_end);
      break;
    }
    line_end = text.find('\n', line_end + 1);
  }
  return std::string(trim_ascii(text));
}

std::vector<std::string> split_sentences(std::string_view text) {
  std::vector<std::string> sentences;
  std::size_t start = 0;
  const auto emit = [&](std::size_t end) {
    const std::string_view sentence = trim_ascii(text.substr(start, end - start));
    if (!sentence.empty()) sentences.emplace_back(sentence);
    start = end;
  };

  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n' || c == '\r') {
      emit(i);
      start = ++i;
      continue;
    }
    if (!is_terminator(c)) {
      ++i;
      continue;
    }
    std::size_t run_end = i;
    while (run_end < text.size() && is_terminator(text[run_end]))
      ++run_end;
    std::size_t end = skip_closers(text, run_end);
    const std::size_t after_markers = skip_markers(text, end);
    const bool has_markers = after_markers != end;
    end = after_markers;

    bool split = false;
    if (end < text.size() && is_ascii_space(text[end])) {
      std::size_t next = end;
      while (next < text.size() && is_ascii_space(text[next]) && text[next] != '\n' &&
             text[next] != '\r')
        ++next;
      if (next < text.size()) {
        split = text[next] == '\n' || text[next] == '\r' ||
                (starts_sentence(text, next) && (has_markers || c != '.' || run_end != i + 1 ||
                                                 !dot_is_not_an_end(text, i, next)));
      }
    }
    if (split) {
      emit(end);
      i = end;
    } else {
      i = run_end;
    }
  }
  emit(text.size());
  return sentences;
}

std::vector<std::string> qampari_claims(std::string_view output, std::string_view question) {
  const std::string_view text = qampari_rstrip(output);
  const auto markers = find_markers(text);
  std::vector<std::string> claims;
  std::size_t piece_start = 0;
  std::size_t next_marker = 0;
  const auto add = [&](std::size_t end) {
    const std::string_view piece = python_strip(text.substr(piece_start, end - piece_start));
    if (!piece.empty()) claims.push_back(std::string(question) + " " + std::string(piece));
    piece_start = end + 1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    while (next_marker < markers.size() && markers[next_marker].end <= i)
      ++next_marker;
    const bool in_marker = next_marker < markers.size() && markers[next_marker].begin <= i;
    if (text[i] == ',' && !in_marker) add(i);
  }
  add(text.size());
  return claims;
}

parsed_sentence parse_citations(std::string_view sentence, int max_citations) {
  parsed_sentence parsed;
  const auto markers = find_markers(sentence);
  std::vector<int> all;
  for (const auto& m : markers) {
    if (read_marker(m.inside, all)) ++parsed.nonstandard_markers;
  }
  std::unordered_set<int> seen;
  for (const int c : all) {
    if (max_citations >= 1 && static_cast<int>(parsed.citations.size()) >= max_citations) break;
    if (seen.insert(c).second) parsed.citations.push_back(c);
  }
  parsed.claim = without_markers(sentence, markers);
  return parsed;
}

std::string remove_citation_markers(std::string_view text) {
  return without_markers(text, find_markers(text));
}

// --- Lexical judge ----------------------------------------------------------------------------

lexical_judge::lexical_judge(double threshold) : threshold_(threshold) {
  if (!(threshold > 0.0 && threshold <= 1.0)) {
    throw std::invalid_argument(
        fmt::format("lexical judge: threshold {} not in (0, 1]", threshold));
  }
}

double lexical_judge::coverage(std::string_view premise, std::string_view claim) const {
  const word_bag claim_words = content_words(claim);
  if (claim_words.words.empty()) return 0.0;
  const word_bag premise_words = content_words(premise);
  std::size_t found = 0;
  for (const auto& w : claim_words.words) {
    if (premise_words.words.count(w) != 0) ++found;
  }
  return static_cast<double>(found) / static_cast<double>(claim_words.words.size());
}

verdict lexical_judge::judge(const std::string& premise, const std::string& claim) {
  verdict v;
  const word_bag claim_words = content_words(claim);
  if (claim_words.words.empty()) return v;
  const word_bag premise_words = content_words(premise);
  for (const auto& n : claim_words.numbers) {
    if (premise_words.numbers.count(n) == 0) return v;
  }
  // Coverage alone would let "X did not win" through on a premise saying "X won".
  if (claim_words.negated && !premise_words.negated) return v;
  std::size_t found = 0;
  for (const auto& w : claim_words.words) {
    if (premise_words.words.count(w) != 0) ++found;
  }
  v.entailed =
      static_cast<double>(found) >= threshold_ * static_cast<double>(claim_words.words.size());
  return v;
}

std::string lexical_judge::name() const {
  return fmt::format("lexical-coverage@{} (approximate, offline)", threshold_);
}

// --- Citation recall and precision ------------------------------------------------------------

std::string format_passage(const passage& doc) {
  return "Title: " + doc.title + "\n" + doc.text;
}

citation_result score_citations(const std::vector<std::string>& sentences,
                                const std::vector<passage>& docs, entailment_judge& judge,
                                int max_citations) {
  citation_result result;
  result.sentences = static_cast<int>(sentences.size());
  int supported = 0;
  int precise = 0;
  const auto doc_count = static_cast<long long>(docs.size());

  for (const auto& sentence : sentences) {
    // All citations first: ALCE rejects a sentence for an out-of-range citation even when it
    // lies beyond the ones that are counted.
    const parsed_sentence parsed = parse_citations(sentence, 0);
    result.nonstandard_markers += parsed.nonstandard_markers;
    sentence_result detail;
    detail.sentence = sentence;
    detail.claim = parsed.claim;

    if (parsed.citations.empty()) {
      detail.reason = "no citation";
      result.details.push_back(std::move(detail));
      continue;
    }
    if (std::any_of(parsed.citations.begin(), parsed.citations.end(),
                    [doc_count](int c) { return c < 1 || c > doc_count; })) {
      detail.citations = parsed.citations;
      detail.out_of_range = true;
      detail.reason = "citation out of range";
      result.details.push_back(std::move(detail));
      continue;
    }
    detail.citations = parsed.citations;
    if (max_citations >= 1 && static_cast<int>(detail.citations.size()) > max_citations) {
      detail.citations.resize(static_cast<std::size_t>(max_citations));
    }
    const std::vector<int>& cited = detail.citations;
    result.citations_counted += static_cast<int>(cited.size());

    // Within a sentence the same premise comes up more than once (with two citations, the
    // "others" of one are the other alone), so verdicts are kept for the sentence.
    std::map<std::string, bool> seen;
    const auto entails = [&](const std::vector<int>& ids) -> std::optional<bool> {
      std::string premise;
      for (const int id : ids) {
        if (!premise.empty()) premise += '\n';
        premise += format_passage(docs[static_cast<std::size_t>(id - 1)]);
      }
      if (const auto it = seen.find(premise); it != seen.end()) return it->second;
      verdict v = judge.judge(premise, detail.claim);
      ++result.judge_calls;
      result.usage += v.usage;
      if (v.failure) {
        result.failure = std::move(v.failure);
        return std::nullopt;
      }
      seen.emplace(std::move(premise), v.entailed);
      return v.entailed;
    };

    const std::optional<bool> joint = entails(cited);
    if (!joint) return result;
    detail.supported = *joint;
    detail.precise.assign(cited.size(), 0);
    if (!detail.supported) {
      detail.reason = "not entailed";
      result.details.push_back(std::move(detail));
      continue;
    }
    ++supported;
    detail.reason = "supported";
    if (cited.size() == 1) {
      detail.precise[0] = 1;
    } else {
      for (std::size_t k = 0; k < cited.size(); ++k) {
        const std::optional<bool> alone = entails({cited[k]});
        if (!alone) return result;
        if (*alone) {
          detail.precise[k] = 1;
          continue;
        }
        std::vector<int> others = cited;
        others.erase(others.begin() + static_cast<std::ptrdiff_t>(k));
        const std::optional<bool> without = entails(others);
        if (!without) return result;
        // Not needed when the others carry the claim without it.
        detail.precise[k] = *without ? 0 : 1;
      }
    }
    precise += static_cast<int>(std::count(detail.precise.begin(), detail.precise.end(), 1));
    result.details.push_back(std::move(detail));
  }

  if (result.sentences > 0) {
    result.recall = static_cast<double>(supported) / result.sentences;
  }
  if (result.citations_counted > 0) {
    result.precision = static_cast<double>(precise) / result.citations_counted;
  }
  return result;
}

// --- Correctness ------------------------------------------------------------------------------

std::string normalize_squad(std::string_view text) {
  std::u32string s = unicode::lower(unicode::decode(text));
  std::erase_if(s, [](char32_t c) {
    return c < 0x80 &&
           std::string_view("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~").find(static_cast<char>(c)) !=
               std::string_view::npos;
  });
  // re.sub(r'\b(a|an|the)\b', ' ', ...): a maximal run of word characters that is an article.
  std::u32string no_articles;
  no_articles.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    if (!unicode::is_word(s[i])) {
      no_articles.push_back(s[i++]);
      continue;
    }
    std::size_t j = i;
    while (j < s.size() && unicode::is_word(s[j]))
      ++j;
    const std::u32string_view word(s.data() + i, j - i);
    if (word == U"a" || word == U"an" || word == U"the") {
      no_articles.push_back(U' ');
    } else {
      no_articles.append(word);
    }
    i = j;
  }
  std::string out;
  out.reserve(no_articles.size());
  bool pending_space = false;
  for (const char32_t c : no_articles) {
    if (unicode::is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    unicode::append_utf8(c, out);
  }
  return out;
}

double str_em(std::string_view output_without_citations,
              const std::vector<std::vector<std::string>>& short_answers_per_pair) {
  if (short_answers_per_pair.empty()) return 0.0;
  const std::string context = normalize_squad(output_without_citations);
  int present = 0;
  for (const auto& answers : short_answers_per_pair) {
    const bool any = std::any_of(answers.begin(), answers.end(), [&](const std::string& a) {
      return context.find(normalize_squad(a)) != std::string::npos;
    });
    if (any) ++present;
  }
  return static_cast<double>(present) / static_cast<double>(short_answers_per_pair.size());
}

list_scores qampari_scores(std::string_view output_without_citations,
                           const std::vector<std::vector<std::string>>& answers) {
  list_scores scores;
  const std::string_view text = qampari_rstrip(output_without_citations);
  std::vector<std::string> predictions;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    const std::size_t end = comma == std::string_view::npos ? text.size() : comma;
    std::string p = normalize_squad(text.substr(start, end - start));
    if (!p.empty()) predictions.push_back(std::move(p));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  scores.predictions = static_cast<int>(predictions.size());

  std::vector<std::vector<std::string>> groups;
  std::unordered_set<std::string> flat;
  for (const auto& aliases : answers) {
    auto& group = groups.emplace_back();
    for (const auto& a : aliases) {
      group.push_back(normalize_squad(a));
      flat.insert(group.back());
    }
  }
  const std::unordered_set<std::string> predicted(predictions.begin(), predictions.end());

  if (!predictions.empty()) {
    const auto correct = std::count_if(predictions.begin(), predictions.end(),
                                       [&](const std::string& p) { return flat.count(p) != 0; });
    scores.precision = static_cast<double>(correct) / static_cast<double>(predictions.size());
  }
  if (!groups.empty()) {
    const auto hits = std::count_if(groups.begin(), groups.end(), [&](const auto& group) {
      return std::any_of(group.begin(), group.end(),
                         [&](const std::string& a) { return predicted.count(a) != 0; });
    });
    scores.recall = static_cast<double>(hits) / static_cast<double>(groups.size());
    scores.recall_top5 = static_cast<double>(std::min<std::ptrdiff_t>(5, hits)) /
                         static_cast<double>(std::min<std::size_t>(5, groups.size()));
  }
  const auto f1 = [](double p, double r) { return p + r == 0 ? 0.0 : 2 * p * r / (p + r); };
  scores.f1 = f1(scores.precision, scores.recall);
  scores.f1_top5 = f1(scores.precision, scores.recall_top5);
  return scores;
}

}  // namespace ys::citations
