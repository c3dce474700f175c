// DROP's official exact-match and F1 (allennlp's drop_eval.py), reproduced to the last rounding
// so that numbers reported here can be compared with published ones.
//
// Normalization of an answer string, token by token (tokens: split on ' ' and on '-'):
//  1. Lowercase as Python's str.lower() does (full Unicode mapping, U+0130 to "i" + U+0307,
//     final capital sigma to U+03C2).
//  2. Remove ASCII punctuation, unless the token is a number as Python's float() reads it
//     (surrounding whitespace, '+'/'-', "1e3", ".5", "5.", "1_000", inf/infinity/nan in any
//     case, and any Unicode decimal digits).
//  3. A token that is such a number becomes Python's str(float(token)): "1,000" -> "1000.0",
//     "1e16" -> "1e+16", "$3.5" -> "35.0" (the '$' and '.' are both punctuation).
//  4. The articles a/an/the are removed where they stand as whole words (Python's \b).
//  5. Whitespace (Python's str.split() set) separates words; empty tokens vanish.
// The normalized span is its words joined by single spaces; its bag is the set of those words.
//
// EM: the set of normalized predicted spans equals the set of normalized gold spans and both
// lists have the same length. F1: token-set F1 for every (gold, predicted) pair, 0 when the
// gold bag holds a number and the predicted bag holds none of the gold's numbers; the best
// one-to-one pairing; the mean over max(#gold, #predicted) slots, rounded to two decimals the
// way numpy rounds (half to even on x * 100, so 0.665 -> 0.66).
//
// A question scores the maximum EM and F1 over its candidates (the answer and the validated
// answers) whose first span is not blank.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ys::drop {

// The normalized form of one answer string (words joined by single spaces).
std::string normalize_answer(std::string_view text);

// Python's float(text), or nothing where float() raises ValueError.
std::optional<double> parse_python_float(std::string_view text);

// Python's str(x) for a float: shortest round-trip digits, "1000.0", "1e+16", "1e-05", "inf".
std::string python_float_repr(double x);

struct metrics {
  double em = 0.0;
  double f1 = 0.0;  // already rounded to two decimals
};

// Normalized spans and their bags, computed once and compared many times. Reusing one object
// for many predictions reuses its memory.
class prepared_spans {
 public:
  prepared_spans() = default;
  explicit prepared_spans(const std::vector<std::string>& spans) { assign(spans); }

  void assign(const std::vector<std::string>& spans);
  std::size_t size() const { return spans_.size(); }
  std::string_view normalized(std::size_t i) const;

  // Internal layout; public so the scoring code can read it without friends.
  struct word_ref {
    std::uint32_t offset;
    std::uint32_t size;
    bool is_number;
  };
  struct span_ref {
    std::uint32_t text_offset;
    std::uint32_t text_size;
    std::uint32_t bag_offset;  // into bag_words(): this span's distinct words, sorted
    std::uint32_t bag_size;
    bool has_number;
  };
  const std::string& text() const { return text_; }
  const std::vector<word_ref>& bag_words() const { return bag_words_; }
  const std::vector<span_ref>& spans() const { return spans_; }

 private:
  std::string text_;  // every normalized span, back to back
  std::vector<word_ref> bag_words_;
  std::vector<span_ref> spans_;
};

// EM and F1 of predicted spans against one gold answer's spans.
metrics score_spans(const std::vector<std::string>& predicted,
                    const std::vector<std::string>& gold);
metrics score_prepared(const prepared_spans& predicted, const prepared_spans& gold);

struct gold_answer {
  std::vector<std::string> spans;
  std::string type;  // "number", "span", "spans" or "date"
};

// One answer object of the DROP release ({"number", "spans", "date"}): a non-empty number wins,
// then non-empty spans, then the date as "day month year" without its empty parts. Throws
// std::invalid_argument when none of the three is present.
gold_answer gold_from_json(const nlohmann::json& answer);

// The official candidates of a qa_pair: "answer" then every "validated_answers" entry.
std::vector<gold_answer> candidates_from_json(const nlohmann::json& qa_pair);

struct question_score {
  double em = 0.0;
  double f1 = 0.0;
  // The answer type the official scorer files this question under; empty where it records
  // None (no candidate has a non-blank first span).
  std::string type;
};

// Gold candidates normalized once, for scoring many predictions against the same question.
class prepared_question {
 public:
  prepared_question() = default;
  explicit prepared_question(const std::vector<gold_answer>& candidates);

  struct candidate {
    prepared_spans spans;
    std::string type;
    bool counts = false;  // the first raw span is not blank, so the official loop uses it
  };
  const std::vector<candidate>& candidates() const { return candidates_; }

 private:
  std::vector<candidate> candidates_;
};

// The official per-question loop: max EM and max F1 over the counted candidates, and the type
// of the last counted candidate whose EM equals the running maximum EM or whose F1 equals the
// running maximum F1 (so with EM 0 everywhere the last counted candidate names the type).
question_score score_question(const std::vector<std::string>& predicted,
                              const std::vector<gold_answer>& candidates);
question_score score_question(const std::vector<std::string>& predicted,
                              const prepared_question& gold);
question_score score_question(const prepared_spans& predicted, const prepared_question& gold);

}  // namespace ys::drop
