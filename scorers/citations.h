// Citation accuracy as ALCE (Gao et al., 2023, "Enabling Large Language Models to Generate Text
// with Citations") defines it, plus ALCE's correctness metrics for ASQA (STR-EM) and QAMPARI.
//
// Output preprocessing (preprocess_output):
//  1. <think>...</think> blocks are removed (an unclosed <think> removes the rest; a stray
//     </think> removes everything before it).
//  2. Surrounding whitespace is stripped, the text is cut at the first blank line (an empty or
//     whitespace-only line), and stripped again.
//
// Sentence splitting (split_sentences), rule-based in place of ALCE's NLTK punkt:
//  1. A line break always ends a sentence.
//  2. A sentence may end after a run of `.`, `!`, `?`, optionally followed by closing quotes or
//     brackets (" ' ) ] } and the curly ” ’ and »). It ends there only when whitespace follows
//     and the next character starts a sentence: an uppercase letter (any script), a digit, or an
//     opening quote or bracket (" ' ( [ { “ ‘ «).
//  3. Citation markers right after the punctuation ("... in 2012. [3] Next ...") belong to the
//     sentence before them; the sentence ends after the last marker, and whitespace and a
//     sentence start must follow the markers.
//  4. A single `.` does not end a sentence after (unless markers follow it, rule 5):
//     - an abbreviation, in any case: Mr Mrs Ms Dr Prof St Jr Sr Mt Ft vs etc e.g i.e Inc Ltd
//       Co Corp Gen Gov Sen Rep, the months Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec,
//       approx est fig vol; "al" only in "et al."; "No" only before a digit ("No. 5"), because
//       "No." is also a one-word sentence;
//     - a single capital initial ("J. K. Rowling"), except "I" (the pronoun and the Roman
//       numeral in "World War I." end sentences far more often than an initial I does);
//     - a dotted acronym: letter groups of one or two letters joined by dots ("U.S.", "U.K.",
//       "Ph.D.", "A.D.", "a.m.").
//     A decimal such as "3.5" never splits because no whitespace follows the dot.
//  5. Citation markers after the punctuation override rule 4: "... in the U.S. [2] The ..." is
//     two sentences, since the writer marked the end.
// Sentences are trimmed; empty ones are dropped.
//
// Citation markers (parse_citations, remove_citation_markers): `[n]`, adjacent `[1][2]`, and the
// non-standard forms `[n, m]` (comma lists) and `[n-m]` / `[n–m]` (ranges, expanded). Spaces
// inside the brackets are allowed. A range longer than kMaxRangeExpansion numbers, or written
// backwards, contributes only its two endpoints: it is garbage either way, and the endpoints are
// enough for the out-of-range check. A number too large for an int reads as INT_MAX.
//
// Citation recall and precision (score_citations), per ALCE's compute_autoais with citations:
//  - a sentence without citations is unsupported;
//  - a sentence citing any document outside 1..docs.size() is unsupported, and its citations do
//    not count toward precision (this check looks at every citation, before truncation);
//  - otherwise its first max_citations distinct citations count, and it is supported when the
//    judge finds the claim (the sentence without markers) entailed by the cited passages
//    ("Title: T\nTEXT" each, joined by "\n");
//  - in a supported sentence with several citations, a citation is imprecise when it alone does
//    not entail the claim while the other citations without it do; every other citation of a
//    supported sentence is precise; citations of unsupported sentences are not;
//  - recall = supported sentences / sentences; precision = precise citations / counted
//    citations (each 0 when its denominator is 0).
// Where this differs from ALCE: ALCE reads only the first number of `[1, 2]` or `[1-3]`; it keeps
// duplicate citations; it reads `[0]` as the last document; its NLTK splitter puts a marker that
// follows the period into the next sentence; it cuts the output at the first line break rather
// than the first blank line; and it leaves outputs with no sentences out of the average, where a
// caller of score_citations gets recall and precision 0.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/errors.h"
#include "harness/types.h"

namespace ys::citations {

inline constexpr int kDefaultMaxCitations = 3;
inline constexpr int kMaxRangeExpansion = 100;

// Think blocks removed, stripped, cut at the first blank line, stripped.
std::string preprocess_output(std::string_view output);

// The rules in the header comment. Returns trimmed, non-empty sentences.
std::vector<std::string> split_sentences(std::string_view text);

// ALCE's QAMPARI "sentences": trailing whitespace, then trailing '.', then trailing ',' removed;
// the rest split on ',' (but not on a comma inside a citation marker such as "[1, 2]", which
// ALCE would cut in two); each piece trimmed and prefixed with the question and a space. Empty
// pieces are dropped (ALCE keeps them as uncited claims).
std::vector<std::string> qampari_claims(std::string_view output, std::string_view question);

struct parsed_sentence {
  std::string claim;            // the sentence without markers, whitespace tidied
  std::vector<int> citations;   // 1-based as written, distinct, in order of first appearance
  int nonstandard_markers = 0;  // markers written as a comma list or a range
};

// Finds every citation marker. `max_citations` < 1 keeps all citations.
parsed_sentence parse_citations(std::string_view sentence,
                                int max_citations = kDefaultMaxCitations);

// The text with every citation marker removed: whitespace runs become one space, a space left
// before punctuation goes ("2012 [3]." -> "2012."), and the ends are trimmed.
std::string remove_citation_markers(std::string_view text);

// --- Entailment judges ------------------------------------------------------------------------

struct verdict {
  bool entailed = false;
  std::optional<ys::error> failure;
  ys::token_usage usage;
};

// Implementations must be thread-safe: one judge serves every sample of a run.
class entailment_judge {
 public:
  virtual ~entailment_judge() = default;
  virtual verdict judge(const std::string& premise, const std::string& claim) = 0;
  virtual std::string name() const = 0;
};

// An offline stand-in for an NLI model, and only an approximation of one: the claim is entailed
// when at least `threshold` of its distinct content words occur in the premise and every number
// in the claim does too. Words are lowercased runs of letters and digits (non-ASCII letters kept
// as they are); a possessive 's is dropped; a final 's' is dropped from words longer than three
// letters (not from "ss"); a fixed list of about 100 English function words is ignored. Numbers
// keep their decimal point and lose thousands separators ("12,717" == "12717"). A claim with a
// negation (no, not, nor, never, or an n't contraction) needs a premise with one. It knows
// nothing of word order, paraphrase or contradiction.
class lexical_judge final : public entailment_judge {
 public:
  // Throws std::invalid_argument unless 0 < threshold <= 1.
  explicit lexical_judge(double threshold = 0.75);

  verdict judge(const std::string& premise, const std::string& claim) override;
  std::string name() const override;

  // The fraction of the claim's content words found in the premise; 0 with no content words.
  double coverage(std::string_view premise, std::string_view claim) const;

 private:
  double threshold_;
};

// --- Citation recall and precision -------------------------------------------------------------

struct passage {
  std::string title;
  std::string text;
};

// "Title: " + title + "\n" + text, as ALCE formats a document for the NLI model.
std::string format_passage(const passage& doc);

struct sentence_result {
  std::string sentence;
  std::string claim;
  std::vector<int> citations;  // the counted ones (all of them when one is out of range)
  bool out_of_range = false;
  bool supported = false;
  std::vector<int> precise;  // per counted citation, 1 or 0; empty when none counted
  std::string reason;        // "supported", "not entailed", "no citation", "citation out of range"
};

struct citation_result {
  double recall = 0;
  double precision = 0;
  int sentences = 0;
  int citations_counted = 0;
  int nonstandard_markers = 0;
  std::vector<sentence_result> details;
  // The first judge failure; scoring stops there, so recall and precision stay 0 and details
  // hold the sentences scored before it.
  std::optional<ys::error> failure;
  ys::token_usage usage;
  int judge_calls = 0;
};

// ALCE's citation recall and precision for one output (the rules in the header comment).
citation_result score_citations(const std::vector<std::string>& sentences,
                                const std::vector<passage>& docs, entailment_judge& judge,
                                int max_citations = kDefaultMaxCitations);

// --- Correctness (ALCE's definitions) ---------------------------------------------------------

// SQuAD normalization as ALCE's normalize_answer: Python's str.lower(), ASCII punctuation
// removed, the words a/an/the removed (Python's \b), whitespace runs (str.split()) collapsed.
std::string normalize_squad(std::string_view text);

// ASQA STR-EM: the mean over QA pairs of whether any normalized short answer is a substring of
// the normalized output (which should have its citation markers removed). 0 with no pairs.
double str_em(std::string_view output_without_citations,
              const std::vector<std::vector<std::string>>& short_answers_per_pair);

struct list_scores {
  double precision = 0;
  double recall = 0;
  double f1 = 0;
  double recall_top5 = 0;
  double f1_top5 = 0;
  int predictions = 0;
};

// ALCE's compute_qampari_f1 for one output: the predictions are the normalized comma-separated
// pieces (after removing trailing whitespace, '.' and ','), empties dropped; `answers` holds one
// group of aliases per gold answer. Recall is 0 when there are no groups.
list_scores qampari_scores(std::string_view output_without_citations,
                           const std::vector<std::vector<std::string>>& answers);

}  // namespace ys::citations
