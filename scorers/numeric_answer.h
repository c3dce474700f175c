// Final-answer extraction for tasks whose answer is one number (GSM8K and similar).
//
// Rules, in order (the README's "GSM8K answer extraction" section is the user-facing copy):
//  1. <think>...</think> blocks are removed (an unclosed <think> removes the rest; a stray
//     </think> removes everything before it). This comes first so that a stop sequence written
//     inside the reasoning cannot hide the answer after it.
//  2. The text is cut at the first stop sequence (the caller passes the task's stops).
//  3. The LAST explicit final-answer marker wins: `#### N`, any "... answer is N" phrase (any
//     case: "The answer is", "The final answer is", "My answer is"), `\boxed{N}`. The marker
//     and its number share a line; a marker with no number after it is skipped. Where the
//     marker's sentence continues with `=` ("The answer is 3 + 4 = 7."), the number after the
//     last `=` is taken.
//  4. Without a usable marker, the last number in the text.
//  5. Nothing numeric: the answer is invalid and scores 0.
// Numbers: optional sign, `$`, thousands separators (`8,000`, LaTeX `8{,}000`), decimals, a
// trailing period (`18.`), bold/LaTeX wrappers; compared numerically, never as strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ys::numeric {

inline constexpr std::string_view kInvalid = "[invalid]";

enum class answer_source { marker, last_number, none };

struct extraction {
  std::optional<double> value;  // empty when invalid
  std::string text;             // canonical text of the number ("1234", "-0.5") or kInvalid
  answer_source source = answer_source::none;
};

// Cuts `text` at the earliest occurrence of any stop sequence.
std::string_view truncate_at_stop(std::string_view text, const std::vector<std::string>& stops);

// Removes <think>...</think> reasoning (rule 2). Returns a view into `text` when nothing is
// removed in the middle, else writes into `scratch` and returns a view of it.
std::string_view remove_reasoning(std::string_view text, std::string& scratch);

// Rules 3-5 on text that is already truncated and free of reasoning.
extraction extract_answer(std::string_view text);

// All rules: reasoning removal, truncation, extraction.
extraction extract_final_answer(std::string_view completion, const std::vector<std::string>& stops);

// Parses a gold answer such as "1,234", "-5", "18.0", "$3.50". Empty when not a number.
std::optional<double> parse_number(std::string_view text);

// Numeric equality with a relative tolerance of 1e-9 (so 18 == 18.0 == 18.000000000001).
bool same_number(double a, double b);

// The canonical text of a number: integers without a decimal point, others shortest round-trip.
std::string canonical_text(double value);

}  // namespace ys::numeric
