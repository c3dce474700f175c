#include "scorers/drop_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace ys::drop {
namespace {

using strings = std::vector<std::string>;

std::string float_text(std::string_view text) {
  const auto value = parse_python_float(text);
  return value ? python_float_repr(*value) : "not a number";
}

// Expected values in this file were checked against the official drop_eval.py; the agreement
// test at the end covers thousands more.

// --- Normalization, rule by rule --------------------------------------------------------------

TEST(DropNormalize, LowercasesAndSplitsOnSpacesAndHyphens) {
  EXPECT_EQ(normalize_answer("Chicago Bears"), "chicago bears");
  EXPECT_EQ(normalize_answer("38-yard"), "38.0 yard");
  EXPECT_EQ(normalize_answer("  many   spaces -- and-hyphens  "), "many spaces and hyphens");
  EXPECT_EQ(normalize_answer(""), "");
}

TEST(DropNormalize, RemovesAsciiPunctuationOnly) {
  EXPECT_EQ(normalize_answer("O'Neal, Jr."), "oneal jr");
  EXPECT_EQ(normalize_answer("(a) [b] {c} \"d\" e!?"), "b c d e");
  // Typographic quotes and dashes are not in string.punctuation: they stay, and an en dash does
  // not split, so "7–7" (a score in the dev set) is one word and not a number.
  EXPECT_EQ(normalize_answer("\u201cquoted\u201d"), "\u201cquoted\u201d");
  EXPECT_EQ(normalize_answer("7\u20137"), "7\u20137");
  EXPECT_EQ(normalize_answer("7-7"), "7.0 7.0");
}

TEST(DropNormalize, NumbersBecomePythonFloatText) {
  EXPECT_EQ(normalize_answer("1,000"), "1000.0");  // the comma is punctuation, then a number
  EXPECT_EQ(normalize_answer("$3.5"), "35.0");     // so is the point once '$' makes it text
  EXPECT_EQ(normalize_answer("3.5"), "3.5");
  EXPECT_EQ(normalize_answer("12.25"), "12.25");
  EXPECT_EQ(normalize_answer("46 yards"), "46.0 yards");
  EXPECT_EQ(normalize_answer("5."), "5.0");
  EXPECT_EQ(normalize_answer("007"), "7.0");
  EXPECT_EQ(normalize_answer("1e16"), "1e+16");
  EXPECT_EQ(normalize_answer("1e15"), "1000000000000000.0");
  EXPECT_EQ(normalize_answer("0.0001"), "0.0001");
  EXPECT_EQ(normalize_answer("0.00001"), "1e-05");
  EXPECT_EQ(normalize_answer("-5"), "5.0");  // '-' splits, so there are no negative numbers
}

TEST(DropNormalize, RemovesArticlesAsWholeWords) {
  EXPECT_EQ(normalize_answer("The Bears"), "bears");
  EXPECT_EQ(normalize_answer("a an the"), "");
  EXPECT_EQ(normalize_answer("theater anchor bath"), "theater anchor bath");
  EXPECT_EQ(normalize_answer("the_end"), "theend");  // '_' is punctuation, removed first
  EXPECT_EQ(normalize_answer("the.end"), "theend");
  EXPECT_EQ(normalize_answer("the\tend"), "end");  // a tab stays inside the token
}

TEST(DropNormalize, WordBoundariesFollowPythonNotGlibc) {
  // A superscript digit is a word character to Python (so "the" is not a whole word there);
  // a combining accent is not one (so it is).
  EXPECT_EQ(normalize_answer("the\u00b2 cat"), "the\u00b2 cat");
  EXPECT_EQ(normalize_answer("the\u0301 cat"), "\u0301 cat");
}

TEST(DropNormalize, CollapsesPythonWhitespace) {
  EXPECT_EQ(normalize_answer("THE\u00a0Bears"), "bears");
  EXPECT_EQ(normalize_answer("Bears\u00a0"), "bears");
  EXPECT_EQ(normalize_answer("x\x1cy\u3000z\u2028w\u0085v"), "x y z w v");
  EXPECT_EQ(normalize_answer("x\u200by"), "x\u200by");  // zero-width space is not whitespace
}

TEST(DropNormalize, LowercasesUnicodeLikePython) {
  EXPECT_EQ(normalize_answer("\u00d6Z BEG"), "\u00f6z beg");
  EXPECT_EQ(normalize_answer("Ver\u00cdN"), "ver\u00edn");
  EXPECT_EQ(normalize_answer("STRASSE \u1e9e"), "strasse \u00df");
  // U+0130 lowercases to two code points; a final capital sigma to the final form.
  EXPECT_EQ(normalize_answer("\u0130stanbul"), "i\u0307stanbul");
  EXPECT_EQ(normalize_answer("\u039f\u0394\u039f\u03a3"), "\u03bf\u03b4\u03bf\u03c2");
  EXPECT_EQ(normalize_answer("\u03a3\u0391"), "\u03c3\u03b1");
}

TEST(DropNormalize, UnicodeDigitsAreNumbers) {
  EXPECT_EQ(normalize_answer("\u0663"), "3.0");         // ARABIC-INDIC DIGIT THREE
  EXPECT_EQ(normalize_answer("\uff11\uff12"), "12.0");  // fullwidth
  EXPECT_EQ(normalize_answer("\u00b2"), "\u00b2");      // superscript: not a decimal digit
}

TEST(DropNormalize, MalformedUtf8PassesThrough) {
  EXPECT_EQ(normalize_answer("X\xff B"), "x\xff b");
  EXPECT_EQ(normalize_answer("A\xff B"), "\xff b");  // a stray byte is no word character
}

// --- Python's float() ----------------------------------------------------------------------------

TEST(DropPythonFloat, AcceptsWhatFloatAccepts) {
  EXPECT_EQ(float_text("1e3"), "1000.0");
  EXPECT_EQ(float_text("1E3"), "1000.0");
  EXPECT_EQ(float_text("+5"), "5.0");
  EXPECT_EQ(float_text("-5"), "-5.0");
  EXPECT_EQ(float_text(".5"), "0.5");
  EXPECT_EQ(float_text("5."), "5.0");
  EXPECT_EQ(float_text("1.e5"), "100000.0");
  EXPECT_EQ(float_text("1_000"), "1000.0");
  EXPECT_EQ(float_text("1_0.5_5"), "10.55");
  EXPECT_EQ(float_text(" \t5\n"), "5.0");
  EXPECT_EQ(float_text("\u00a05\u3000"), "5.0");
  EXPECT_EQ(float_text("inf"), "inf");
  EXPECT_EQ(float_text("-Infinity"), "-inf");
  EXPECT_EQ(float_text("nan"), "nan");
  EXPECT_EQ(float_text("+NaN"), "nan");
  EXPECT_EQ(float_text("1e400"), "inf");
  EXPECT_EQ(float_text("1e-400"), "0.0");
  EXPECT_EQ(float_text("3e-324"), "5e-324");
  EXPECT_EQ(float_text("123456789012345678"), "1.2345678901234568e+17");
}

TEST(DropPythonFloat, RejectsWhatFloatRejects) {
  for (const char* text :
       {"",       " ",   "1__0", "_1",    "1_", "1_.5", "1._5",    "1e",     "e5",    ".",
        "+",      "++5", "5+",   "1,000", "$5", "0x10", "infinit", "nan(1)", "1 000", "5\x1c",
        "\0345",  // U+001C then '5'; str.split() whitespace, not float()'s
        "1\u00b2"}) {
    EXPECT_FALSE(parse_python_float(text).has_value()) << '"' << text << '"';
  }
}

TEST(DropPythonFloat, ReprMatchesPython) {
  EXPECT_EQ(python_float_repr(0.0), "0.0");
  EXPECT_EQ(python_float_repr(-0.0), "-0.0");
  EXPECT_EQ(python_float_repr(0.1), "0.1");
  EXPECT_EQ(python_float_repr(1e22), "1e+22");
  EXPECT_EQ(python_float_repr(1.5e-5), "1.5e-05");
  EXPECT_EQ(python_float_repr(1e100), "1e+100");
  EXPECT_EQ(python_float_repr(1234567890123456.7), "1234567890123456.8");
  EXPECT_EQ(python_float_repr(5e-324), "5e-324");
  EXPECT_EQ(python_float_repr(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(python_float_repr(std::numeric_limits<double>::quiet_NaN()), "nan");
}

TEST(DropNormalize, FloatEdgeCasesInAnswers) {
  EXPECT_EQ(normalize_answer("1e3"), "1000.0");
  EXPECT_EQ(normalize_answer("+5"), "5.0");
  EXPECT_EQ(normalize_answer(".5"), "0.5");
  EXPECT_EQ(normalize_answer("1_000"), "1000.0");
  EXPECT_EQ(normalize_answer("Infinity"), "inf");
  EXPECT_EQ(normalize_answer("NaN"), "nan");
  // Not a number as written, but removing the underscores (punctuation) leaves one.
  EXPECT_EQ(normalize_answer("1__0"), "10.0");
  EXPECT_EQ(normalize_answer("3.5."), "35.0");
}

// --- Span scoring --------------------------------------------------------------------------------

void expect_metrics(const strings& predicted, const strings& gold, double em, double f1) {
  const metrics m = score_spans(predicted, gold);
  EXPECT_EQ(m.em, em);
  EXPECT_DOUBLE_EQ(m.f1, f1);
}

TEST(DropScoreSpans, RequiredCases) {
  expect_metrics({"1,000"}, {"1000"}, 1, 1);
  expect_metrics({"$3.5"}, {"3.5"}, 0, 0);
  expect_metrics({"-5"}, {"5"}, 1, 1);
  expect_metrics({"Chicago Bears"}, {"Bears"}, 0, 0.67);
  expect_metrics({"46 yards"}, {"47"}, 0, 0);
  expect_metrics({"Bob", "Alice"}, {"Alice", "Bob"}, 1, 1);
  expect_metrics({"Alice", "Alice"}, {"Alice", "Bob"}, 0, 0.5);
  expect_metrics({"12.25"}, {"12.25"}, 1, 1);
}

TEST(DropScoreSpans, DateAgainstWrittenOutDate) {
  const auto gold = gold_from_json(nlohmann::json::parse(
      R"({"number": "", "spans": [], "date": {"day": "3", "month": "November", "year": "1990"}})"));
  const metrics m = score_spans({"November 3, 1990"}, gold.spans);
  EXPECT_EQ(m.em, 0.0);  // same words in another order
  EXPECT_EQ(m.f1, 1.0);
}

TEST(DropScoreSpans, NumbersMustMatchWhenGoldHasThem) {
  expect_metrics({"5 yards"}, {"5"}, 0, 0.67);
  expect_metrics({"5"}, {"5 yards"}, 0, 0.67);
  expect_metrics({"6 yards"}, {"5 yards"}, 0, 0);  // "yards" is shared, the number is not
  expect_metrics({"two", "5"}, {"5", "2"}, 0, 0.5);
}

TEST(DropScoreSpans, EmptyAnswers) {
  expect_metrics({""}, {"x"}, 0, 0);
  expect_metrics({}, {"x"}, 0, 0);
  expect_metrics({"the"}, {"a"}, 1, 1);  // both normalize to nothing: empty bags score 1
  expect_metrics({"the"}, {"x"}, 0, 0);
  expect_metrics({"x"}, {"the"}, 0, 0);
}

TEST(DropScoreSpans, RoundsLikeNumpy) {
  // One matching span among 40, 8 slots: means 0.025, 0.075, 0.125 and 0.375. numpy rounds
  // x * 100 half to even (2.5 -> 2, 7.5 -> 8, 12.5 -> 12, 37.5 -> 38); Python's round() would
  // give 0.03 and 0.07 for the first two.
  const auto padded = [](strings spans, std::size_t size) {
    for (std::size_t k = spans.size(); k < size; ++k) {
      std::string filler = "filler";
      filler += std::to_string(k);
      spans.push_back(filler);
    }
    return spans;
  };
  expect_metrics(padded({"x"}, 40), {"x"}, 0, 0.02);
  expect_metrics(padded({"x", "y", "z"}, 40), {"x", "y", "z"}, 0, 0.08);
  expect_metrics(padded({"x"}, 8), {"x"}, 0, 0.12);
  expect_metrics(padded({"x", "y", "z"}, 8), {"x", "y", "z"}, 0, 0.38);
  expect_metrics({"big red dog"}, {"red"}, 0, 0.5);
}

TEST(DropScoreSpans, PreparedFormsAgreeWithTheDirectForm) {
  const prepared_spans gold(strings{"Chicago Bears", "Lions"});
  ASSERT_EQ(gold.size(), 2U);
  EXPECT_EQ(gold.normalized(0), "chicago bears");
  prepared_spans predicted;
  for (const strings& p : {strings{"Bears"}, strings{"Lions", "the Bears"}, strings{}}) {
    predicted.assign(p);
    const metrics fast = score_prepared(predicted, gold);
    const metrics slow = score_spans(p, {"Chicago Bears", "Lions"});
    EXPECT_EQ(fast.em, slow.em);
    EXPECT_EQ(fast.f1, slow.f1);
  }
}

// --- Gold answers --------------------------------------------------------------------------------

gold_answer gold_of(const char* json) {
  return gold_from_json(nlohmann::json::parse(json));
}

TEST(DropGold, PicksNumberThenSpansThenDate) {
  auto g =
      gold_of(R"({"number": "7", "spans": ["x"], "date": {"day": "", "month": "", "year": ""}})");
  EXPECT_EQ(g.spans, strings{"7"});
  EXPECT_EQ(g.type, "number");
  g = gold_of(R"({"number": "", "spans": ["x"], "date": {}})");
  EXPECT_EQ(g.spans, strings{"x"});
  EXPECT_EQ(g.type, "span");
  g = gold_of(R"({"number": "", "spans": ["x", "y"]})");
  EXPECT_EQ(g.spans, (strings{"x", "y"}));
  EXPECT_EQ(g.type, "spans");
  g = gold_of(
      R"({"number": "", "spans": [], "date": {"day": "", "month": "May", "year": "1698"}})");
  EXPECT_EQ(g.spans, strings{"May 1698"});
  EXPECT_EQ(g.type, "date");
  g = gold_of(R"({"number": "", "spans": [], "date": {}})");
  EXPECT_EQ(g.spans, strings{""});
  EXPECT_EQ(g.type, "date");
  g = gold_of(R"({"number": 12, "spans": []})");  // str() of a JSON number, as Python prints it
  EXPECT_EQ(g.spans, strings{"12"});
  EXPECT_THROW(gold_of(R"({"number": "", "spans": []})"), std::invalid_argument);
}

// --- Questions -----------------------------------------------------------------------------------

gold_answer number(const std::string& n) {
  return {{n}, "number"};
}
gold_answer span(const std::string& s) {
  return {{s}, "span"};
}

TEST(DropQuestion, MaximumOverCandidates) {
  const std::vector<gold_answer> candidates = {span("Chicago Bears"), span("Bears")};
  const question_score q = score_question({"Bears"}, candidates);
  EXPECT_EQ(q.em, 1.0);
  EXPECT_EQ(q.f1, 1.0);
  EXPECT_EQ(q.type, "span");
}

TEST(DropQuestion, TypeFollowsTheOfficialLoop) {
  // The number candidate gives the best F1 (0.67), but the later span candidate has EM 0, equal
  // to the running maximum, so the official loop files the question under "span".
  EXPECT_EQ(score_question({"5 points"}, {number("5"), span("7 points")}).type, "span");
  EXPECT_EQ(score_question({"5 points"}, {span("7 points"), number("5")}).type, "number");
  EXPECT_EQ(score_question({"Chicago Bears"}, {span("Chicago Bears"), number("5")}).type, "span");
  EXPECT_EQ(score_question({"Lions"}, {span("Bears"), number("0")}).type, "number");
}

TEST(DropQuestion, BlankCandidatesDoNotCount) {
  const gold_answer blank_date{{""}, "date"};
  // An empty prediction matches the blank gold exactly, yet scores nothing: blank candidates
  // are skipped, and with none left the official type is None (empty here).
  const question_score q = score_question({""}, {blank_date});
  EXPECT_EQ(q.em, 0.0);
  EXPECT_EQ(q.f1, 0.0);
  EXPECT_EQ(q.type, "");
  const question_score r = score_question({"x"}, {blank_date, span("\u00a0 ")});
  EXPECT_EQ(r.type, "");
  const question_score s = score_question({"x"}, {blank_date, span("x")});
  EXPECT_EQ(s.em, 1.0);
  EXPECT_EQ(s.type, "span");
}

// --- Agreement with the official scorer ----------------------------------------------------------
//
// tests/fixtures/drop/official_expected.jsonl holds the official scorer's per-question EM, F1 and
// type for 5,764 (question, prediction) pairs over every question of datasets/drop/dev-subset.json
// and datasets/drop/fixture.json: several predictions per question (gold and validated answers,
// reordered, partial, duplicated and padded spans, numbers with commas, '$', units and trailing
// punctuation, written-out dates, wrong and empty answers, Unicode and float() corner cases).
// It was written by tests/fixtures/drop/make_official_expected.py, which imports allennlp's
// drop_eval.py from a folder given on its command line (the official code is not in this
// repository), with Python 3.11.2, numpy 1.24.2 and scipy 1.10.1.

struct question_key {
  std::string dataset;
  std::string query_id;
  int occurrence = 0;
  bool operator<(const question_key& other) const {
    return std::tie(dataset, query_id, occurrence) <
           std::tie(other.dataset, other.query_id, other.occurrence);
  }
};

std::map<question_key, std::vector<gold_answer>> load_questions(const std::string& dataset) {
  std::ifstream in(std::string(YARDSTICK_DATASETS_DIR) + "/drop/" + dataset);
  if (!in) throw std::runtime_error("cannot open dataset " + dataset);
  const auto data = nlohmann::json::parse(in);
  std::map<question_key, std::vector<gold_answer>> questions;
  std::map<std::string, int> seen;
  for (const auto& [passage_id, passage] : data.items()) {
    for (const auto& qa : passage.at("qa_pairs")) {
      const auto query_id = qa.at("query_id").get<std::string>();
      questions[{dataset, query_id, seen[query_id]++}] = candidates_from_json(qa);
    }
  }
  return questions;
}

long hundredths(double x) {
  return std::lround(x * 100.0);
}

TEST(DropOfficialAgreement, EveryFixturePairMatches) {
  std::map<question_key, std::vector<gold_answer>> questions;
  for (const char* dataset : {"dev-subset.json", "fixture.json"}) {
    questions.merge(load_questions(dataset));
  }
  std::map<question_key, prepared_question> prepared;
  for (const auto& [key, candidates] : questions)
    prepared.emplace(key, candidates);

  std::ifstream in(std::string(YARDSTICK_TEST_DATA_DIR) + "/drop/official_expected.jsonl");
  ASSERT_TRUE(in) << "missing tests/fixtures/drop/official_expected.jsonl";
  std::size_t pairs = 0;
  std::size_t mismatches = 0;
  std::map<question_key, int> covered;
  for (std::string line; std::getline(in, line);) {
    const auto record = nlohmann::json::parse(line);
    const question_key key{record.at("dataset").get<std::string>(),
                           record.at("query_id").get<std::string>(),
                           record.at("occurrence").get<int>()};
    const auto found = questions.find(key);
    ASSERT_NE(found, questions.end()) << line;
    ++covered[key];
    const auto predicted = record.at("predicted").get<strings>();
    const double em = record.at("em").get<double>();
    const double f1 = record.at("f1").get<double>();
    const std::string type =
        record.at("type").is_null() ? "" : record.at("type").get<std::string>();

    const question_score slow = score_question(predicted, found->second);
    const question_score fast = score_question(predicted, prepared.at(key));
    for (const question_score& got : {slow, fast}) {
      const bool same = got.em == em && hundredths(got.f1) == hundredths(f1) && got.type == type;
      if (!same && ++mismatches <= 20) {
        ADD_FAILURE() << line << "\n  got em " << got.em << " f1 " << got.f1 << " type '"
                      << got.type << "'";
      }
    }
    ++pairs;
  }
  EXPECT_EQ(mismatches, 0U);
  EXPECT_GE(pairs, 2000U);
  EXPECT_EQ(covered.size(), questions.size()) << "every question has predictions in the fixture";
}

}  // namespace
}  // namespace ys::drop
