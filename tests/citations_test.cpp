#include "scorers/citations.h"

#include <gtest/gtest.h>

#include <climits>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace ys::citations {
namespace {

using strings = std::vector<std::string>;
using ints = std::vector<int>;

// --- preprocess_output ------------------------------------------------------------------------

TEST(PreprocessOutput, StripsAndCutsAtTheFirstBlankLine) {
  EXPECT_EQ(preprocess_output("  Paris is in France [1].  \n\nUnrelated chatter."),
            "Paris is in France [1].");
  EXPECT_EQ(preprocess_output("Line one [1].\nLine two [2].\n \t \nThird."),
            "Line one [1].\nLine two [2].");
  EXPECT_EQ(preprocess_output("\n\n  Only text  \n\n"), "Only text");
  EXPECT_EQ(preprocess_output("A.\r\n\r\nB."), "A.");
  EXPECT_EQ(preprocess_output(""), "");
}

TEST(PreprocessOutput, RemovesReasoningFirst) {
  EXPECT_EQ(preprocess_output("<think>Doc 2 says 1776.\n\nSo...</think>\n\nIt was 1776 [2]."),
            "It was 1776 [2].");
  // A stray close tag: the prompt opened the block.
  EXPECT_EQ(preprocess_output("hmm, maybe [3]</think> It was 1776 [2]."), "It was 1776 [2].");
  // Unclosed: the model never answered.
  EXPECT_EQ(preprocess_output("It was <think>still thinking"), "It was");
}

// --- split_sentences --------------------------------------------------------------------------

TEST(SplitSentences, BasicPunctuation) {
  EXPECT_EQ(split_sentences("It rained. Then it stopped! Did it? Yes."),
            (strings{"It rained.", "Then it stopped!", "Did it?", "Yes."}));
  EXPECT_EQ(split_sentences("Wait... Then it came."), (strings{"Wait...", "Then it came."}));
  EXPECT_EQ(split_sentences("Really?! Yes."), (strings{"Really?!", "Yes."}));
  EXPECT_EQ(split_sentences(""), strings{});
  EXPECT_EQ(split_sentences("   "), strings{});
  EXPECT_EQ(split_sentences("No final period"), strings{"No final period"});
}

TEST(SplitSentences, NeedsWhitespaceAndASentenceStart) {
  // Lowercase after the period: not a sentence start.
  EXPECT_EQ(split_sentences("It cost approx. five dollars."),
            strings{"It cost approx. five dollars."});
  EXPECT_EQ(split_sentences("Yahoo! is a company."), strings{"Yahoo! is a company."});
  EXPECT_EQ(split_sentences("Version 2.0 shipped. 2.1 followed."),
            (strings{"Version 2.0 shipped.", "2.1 followed."}));
  // Decimals never split: no whitespace follows the dot.
  EXPECT_EQ(split_sentences("It grew 3.5 percent. Prices rose 1.25 points."),
            (strings{"It grew 3.5 percent.", "Prices rose 1.25 points."}));
}

TEST(SplitSentences, Abbreviations) {
  EXPECT_EQ(split_sentences("Dr. Smith met Mr. Jones in St. Louis. They talked."),
            (strings{"Dr. Smith met Mr. Jones in St. Louis.", "They talked."}));
  EXPECT_EQ(split_sentences("Fruits, e.g. Apples, are sweet. Others are not."),
            (strings{"Fruits, e.g. Apples, are sweet.", "Others are not."}));
  EXPECT_EQ(split_sentences("It is sour, i.e. Not sweet. Fine."),
            (strings{"It is sour, i.e. Not sweet.", "Fine."}));
  EXPECT_EQ(split_sentences("Smith et al. (2020) found it. It held."),
            (strings{"Smith et al. (2020) found it.", "It held."}));
  EXPECT_EQ(split_sentences("Apple Inc. Released it on Jan. 5 at approx. 9 am. Good."),
            (strings{"Apple Inc. Released it on Jan. 5 at approx. 9 am.", "Good."}));
  EXPECT_EQ(split_sentences("See Fig. 3 and Vol. 2 of it. Done."),
            (strings{"See Fig. 3 and Vol. 2 of it.", "Done."}));
  EXPECT_EQ(split_sentences("Ali vs. Frazier was a fight. It was long."),
            (strings{"Ali vs. Frazier was a fight.", "It was long."}));
  // "No." only abbreviates before a number.
  EXPECT_EQ(split_sentences("It was No. 5 on the list. Is it true? No. It is not."),
            (strings{"It was No. 5 on the list.", "Is it true?", "No.", "It is not."}));
  // "al" alone is a word, not "et al.".
  EXPECT_EQ(split_sentences("He met Al. Then he left."), (strings{"He met Al.", "Then he left."}));
  // The tail of a longer word is no abbreviation.
  EXPECT_EQ(split_sentences("It was a Gladiator. Then came Ophir."),
            (strings{"It was a Gladiator.", "Then came Ophir."}));
}

TEST(SplitSentences, InitialsAndAcronyms) {
  EXPECT_EQ(split_sentences("J. K. Rowling wrote it. It sold well."),
            (strings{"J. K. Rowling wrote it.", "It sold well."}));
  EXPECT_EQ(split_sentences("The U.S. Army and the U.K. Navy met. A Ph.D. Student came."),
            (strings{"The U.S. Army and the U.K. Navy met.", "A Ph.D. Student came."}));
  EXPECT_EQ(split_sentences("It began in 632 A.D. The end came later."),
            strings{"It began in 632 A.D. The end came later."});
  // "I" ends sentences far more often than it abbreviates a name.
  EXPECT_EQ(split_sentences("It ended World War I. Peace followed."),
            (strings{"It ended World War I.", "Peace followed."}));
}

TEST(SplitSentences, CitationMarkersAfterThePeriodStayWithTheirSentence) {
  EXPECT_EQ(split_sentences("It was founded in 2012. [3] Next it grew [1]."),
            (strings{"It was founded in 2012. [3]", "Next it grew [1]."}));
  EXPECT_EQ(split_sentences("It was founded in 2012.[3][4] Next it grew."),
            (strings{"It was founded in 2012.[3][4]", "Next it grew."}));
  EXPECT_EQ(split_sentences("It was founded in 2012 [3]. Next it grew [1, 2]."),
            (strings{"It was founded in 2012 [3].", "Next it grew [1, 2]."}));
  // Markers override the abbreviation rules: the writer marked the end.
  EXPECT_EQ(split_sentences("It is in the U.S. [2] The capital is Washington."),
            (strings{"It is in the U.S. [2]", "The capital is Washington."}));
  EXPECT_EQ(split_sentences("It began in 632 A.D. [1][2]. The end came later [3]."),
            (strings{"It began in 632 A.D. [1][2].", "The end came later [3]."}));
  // A marker at the very end.
  EXPECT_EQ(split_sentences("One. Two. [5]"), (strings{"One.", "Two. [5]"}));
  // A bracket that is no marker opens the next sentence.
  EXPECT_EQ(split_sentences("One. [Note] Two."), (strings{"One.", "[Note] Two."}));
}

TEST(SplitSentences, Quotes) {
  EXPECT_EQ(split_sentences("He said \"Stop.\" Then he left."),
            (strings{"He said \"Stop.\"", "Then he left."}));
  EXPECT_EQ(split_sentences("He left. \"Why?\" she asked."),
            (strings{"He left.", "\"Why?\" she asked."}));
  EXPECT_EQ(split_sentences("He said \xE2\x80\x9CStop.\xE2\x80\x9D Then (later) he left."),
            (strings{"He said \xE2\x80\x9CStop.\xE2\x80\x9D", "Then (later) he left."}));
  EXPECT_EQ(split_sentences("It ended (in 1990.) Then peace."),
            (strings{"It ended (in 1990.)", "Then peace."}));
  EXPECT_EQ(split_sentences("It ended. (Then peace.)"), (strings{"It ended.", "(Then peace.)"}));
  EXPECT_EQ(split_sentences("\"Go!\" \"Now!\""), (strings{"\"Go!\"", "\"Now!\""}));
}

TEST(SplitSentences, NonAsciiCapitals) {
  EXPECT_EQ(split_sentences("It rains. \xC3\x89mile came. \xD0\x9C\xD0\xB8\xD1\x80."),
            (strings{"It rains.", "\xC3\x89mile came.", "\xD0\x9C\xD0\xB8\xD1\x80."}));
  // A lowercase non-ASCII letter does not start a sentence.
  EXPECT_EQ(split_sentences("See approx. \xC3\xA9t\xC3\xA9 here."),
            strings{"See approx. \xC3\xA9t\xC3\xA9 here."});
}

TEST(SplitSentences, NewlinesEndSentences) {
  EXPECT_EQ(split_sentences("First line without period\nsecond line [1]\n\n  third.  "),
            (strings{"First line without period", "second line [1]", "third."}));
  EXPECT_EQ(split_sentences("- item one\r\n- item two"), (strings{"- item one", "- item two"}));
  EXPECT_EQ(split_sentences("Dr.\nSmith"), (strings{"Dr.", "Smith"}));
}

// --- qampari_claims ---------------------------------------------------------------------------

TEST(QampariClaims, SplitsOnCommasAndPrefixesTheQuestion) {
  EXPECT_EQ(qampari_claims("Marazan [1], Stephen Morris [1], No Highway [3].", "Which books?"),
            (strings{"Which books? Marazan [1]", "Which books? Stephen Morris [1]",
                     "Which books? No Highway [3]"}));
  // Trailing whitespace, then '.', then ','; empty pieces vanish.
  EXPECT_EQ(qampari_claims("  A [1], , B [2],.  ", "Q"), (strings{"Q A [1]", "Q B [2]"}));
  EXPECT_EQ(qampari_claims("A, B.,", "Q"), (strings{"Q A", "Q B."}));
  EXPECT_EQ(qampari_claims("", "Q"), strings{});
  // A comma inside a marker does not split.
  EXPECT_EQ(qampari_claims("A [1, 2], B [3]", "Q"), (strings{"Q A [1, 2]", "Q B [3]"}));
}

// --- parse_citations --------------------------------------------------------------------------

TEST(ParseCitations, StandardMarkers) {
  const auto one = parse_citations("It was founded in 2012 [3].");
  EXPECT_EQ(one.citations, ints{3});
  EXPECT_EQ(one.claim, "It was founded in 2012.");
  EXPECT_EQ(one.nonstandard_markers, 0);

  const auto adjacent = parse_citations("Bipolar disorder causes mood swings [1][3].");
  EXPECT_EQ(adjacent.citations, (ints{1, 3}));
  EXPECT_EQ(adjacent.claim, "Bipolar disorder causes mood swings.");
  EXPECT_EQ(adjacent.nonstandard_markers, 0);

  const auto spread = parse_citations("Mawsynram [3], although Sohra [1] holds it.");
  EXPECT_EQ(spread.citations, (ints{3, 1}));
  EXPECT_EQ(spread.claim, "Mawsynram, although Sohra holds it.");

  const auto none = parse_citations("No markers here, [x] or [] or [1a].");
  EXPECT_TRUE(none.citations.empty());
  EXPECT_EQ(none.claim, "No markers here, [x] or [] or [1a].");
}

TEST(ParseCitations, NonStandardMarkers) {
  const auto list = parse_citations("A claim [1, 2].");
  EXPECT_EQ(list.citations, (ints{1, 2}));
  EXPECT_EQ(list.nonstandard_markers, 1);
  EXPECT_EQ(list.claim, "A claim.");

  EXPECT_EQ(parse_citations("A claim [1,2, 3].").citations, (ints{1, 2, 3}));
  EXPECT_EQ(parse_citations("A claim [ 2 ].").citations, ints{2});

  const auto range = parse_citations("A claim [1-3].");
  EXPECT_EQ(range.citations, (ints{1, 2, 3}));
  EXPECT_EQ(range.nonstandard_markers, 1);

  const auto en_dash = parse_citations(
      "A claim [2\xE2\x80\x93"
      "4] and more [5, 6].",
      0);
  EXPECT_EQ(en_dash.citations, (ints{2, 3, 4, 5, 6}));
  EXPECT_EQ(en_dash.nonstandard_markers, 2);
  EXPECT_EQ(en_dash.claim, "A claim and more.");

  const auto mixed = parse_citations("X [1][2-3] and [4, 5].", 0);
  EXPECT_EQ(mixed.citations, (ints{1, 2, 3, 4, 5}));
  EXPECT_EQ(mixed.nonstandard_markers, 2);

  // Backwards or absurd ranges give their endpoints only.
  EXPECT_EQ(parse_citations("X [3-1].", 0).citations, (ints{3, 1}));
  EXPECT_EQ(parse_citations("X [1-100000].", 0).citations, (ints{1, 100000}));
  EXPECT_EQ(parse_citations("X [99999999999].", 0).citations, ints{INT_MAX});
}

TEST(ParseCitations, DuplicatesAndTruncation) {
  EXPECT_EQ(parse_citations("A [2][2][1][2].").citations, (ints{2, 1}));
  EXPECT_EQ(parse_citations("A [1][2][3][4][5].").citations, (ints{1, 2, 3}));
  EXPECT_EQ(parse_citations("A [1][2][3][4][5].", 2).citations, (ints{1, 2}));
  EXPECT_EQ(parse_citations("A [1][2][3][4][5].", 0).citations, (ints{1, 2, 3, 4, 5}));
  // De-duplication comes before truncation.
  EXPECT_EQ(parse_citations("A [1][1][1][2][3][4].").citations, (ints{1, 2, 3}));
}

TEST(ParseCitations, ClaimText) {
  EXPECT_EQ(parse_citations("  Spaces   everywhere [1]  here . ").claim,
            "Spaces everywhere here .");
  EXPECT_EQ(parse_citations("[1] Leading marker.").claim, "Leading marker.");
  EXPECT_EQ(parse_citations("Trailing marker [1]").claim, "Trailing marker");
  EXPECT_EQ(parse_citations("Glued[1]word and end[2].").claim, "Glued word and end.");
  EXPECT_EQ(parse_citations("It was 2012. [3]").claim, "It was 2012.");
  EXPECT_EQ(parse_citations("A [1], B [2]; C [3]: D [4]!").claim, "A, B; C: D!");
}

TEST(RemoveCitationMarkers, AllForms) {
  EXPECT_EQ(remove_citation_markers("Paris [1][2] is in France [3, 4]. Berlin [5-6] is not."),
            "Paris is in France. Berlin is not.");
  EXPECT_EQ(remove_citation_markers("Marazan [1], Stephen Morris [1], No Highway [3]."),
            "Marazan, Stephen Morris, No Highway.");
  EXPECT_EQ(remove_citation_markers("Nothing to remove."), "Nothing to remove.");
  EXPECT_EQ(remove_citation_markers(""), "");
}

// --- score_citations --------------------------------------------------------------------------

// Entailed iff the premise contains every keyword listed for the claim; an unlisted claim is
// never entailed. Optionally fails on the n-th call.
class keyword_judge final : public entailment_judge {
 public:
  explicit keyword_judge(std::map<std::string, strings> needs, int fail_on_call = 0)
      : needs_(std::move(needs)), fail_on_call_(fail_on_call) {}

  verdict judge(const std::string& premise, const std::string& claim) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++calls_;
    verdict v;
    v.usage.prompt_tokens = 10;
    v.usage.completion_tokens = 1;
    if (calls_ == fail_on_call_) {
      v.failure = ys::error{error_code::unavailable, "judge down", 503};
      return v;
    }
    premises_.push_back(premise);
    const auto it = needs_.find(claim);
    if (it == needs_.end()) return v;
    v.entailed = true;
    for (const auto& k : it->second) {
      if (premise.find(k) == std::string::npos) v.entailed = false;
    }
    return v;
  }
  std::string name() const override { return "keyword"; }

  int calls() const { return calls_; }
  const strings& premises() const { return premises_; }

 private:
  std::map<std::string, strings> needs_;
  int fail_on_call_;
  std::mutex mutex_;
  int calls_ = 0;
  strings premises_;
};

const std::vector<passage> kDocs = {
    {"Alpha", "The alpha fact."},
    {"Beta", "The beta fact."},
    {"Gamma", "The gamma fact."},
};

keyword_judge make_judge(int fail_on_call = 0) {
  return keyword_judge({{"Alpha holds.", {"alpha fact"}},
                        {"Alpha and beta hold.", {"alpha fact", "beta fact"}},
                        {"Gamma holds.", {"gamma fact"}}},
                       fail_on_call);
}

TEST(FormatPassage, TitleLineThenText) {
  EXPECT_EQ(format_passage({"Alpha", "The alpha fact."}), "Title: Alpha\nThe alpha fact.");
}

TEST(ScoreCitations, SingleSupportedCitation) {
  auto judge = make_judge();
  const auto r = score_citations({"Alpha holds [1]."}, kDocs, judge);
  EXPECT_EQ(r.recall, 1.0);
  EXPECT_EQ(r.precision, 1.0);
  EXPECT_EQ(r.citations_counted, 1);
  EXPECT_EQ(r.judge_calls, 1);
  EXPECT_EQ(judge.premises(), strings{"Title: Alpha\nThe alpha fact."});
  ASSERT_EQ(r.details.size(), 1u);
  EXPECT_EQ(r.details[0].claim, "Alpha holds.");
  EXPECT_EQ(r.details[0].reason, "supported");
  EXPECT_EQ(r.details[0].precise, ints{1});
  EXPECT_EQ(r.usage.prompt_tokens, 10);
  EXPECT_FALSE(r.failure);
}

TEST(ScoreCitations, UncitedSentenceIsUnsupported) {
  auto judge = make_judge();
  const auto r = score_citations({"Alpha holds.", "Alpha holds [1]."}, kDocs, judge);
  EXPECT_EQ(r.sentences, 2);
  EXPECT_EQ(r.recall, 0.5);
  EXPECT_EQ(r.precision, 1.0);
  EXPECT_EQ(r.citations_counted, 1);
  EXPECT_EQ(r.details[0].reason, "no citation");
  EXPECT_FALSE(r.details[0].supported);
  EXPECT_TRUE(r.details[0].citations.empty());
  EXPECT_EQ(r.judge_calls, 1);
}

TEST(ScoreCitations, OutOfRangeCitationIsUnsupportedAndNotCounted) {
  auto judge = make_judge();
  const auto r = score_citations({"Alpha holds [1][4].", "Alpha holds [1]."}, kDocs, judge);
  EXPECT_EQ(r.recall, 0.5);
  EXPECT_EQ(r.citations_counted, 1);  // only the second sentence's
  EXPECT_EQ(r.precision, 1.0);
  EXPECT_TRUE(r.details[0].out_of_range);
  EXPECT_EQ(r.details[0].reason, "citation out of range");
  EXPECT_EQ(r.details[0].citations, (ints{1, 4}));
  EXPECT_TRUE(r.details[0].precise.empty());
  EXPECT_EQ(r.judge_calls, 1);  // the out-of-range sentence is never judged

  // Zero is out of range too (ALCE would read [0] as the last document).
  EXPECT_EQ(score_citations({"Alpha holds [0]."}, kDocs, judge).details[0].reason,
            "citation out of range");
  // Checked on every citation, even one beyond the counted three.
  const auto beyond = score_citations({"Alpha holds [1][2][3][9]."}, kDocs, judge);
  EXPECT_TRUE(beyond.details[0].out_of_range);
  EXPECT_EQ(beyond.citations_counted, 0);
}

TEST(ScoreCitations, OverCitationMakesTheExtraCitationImprecise) {
  auto judge = make_judge();
  const auto r = score_citations({"Alpha holds [1][2]."}, kDocs, judge);
  EXPECT_EQ(r.recall, 1.0);
  EXPECT_EQ(r.citations_counted, 2);
  EXPECT_EQ(r.precision, 0.5);
  EXPECT_EQ(r.details[0].precise, (ints{1, 0}));
  // Joint [1,2]; [1] alone; [2] alone; "without [2]" is [1] alone again, already known.
  EXPECT_EQ(r.judge_calls, 3);
  EXPECT_EQ(judge.premises()[0], "Title: Alpha\nThe alpha fact.\nTitle: Beta\nThe beta fact.");
  EXPECT_EQ(r.usage.prompt_tokens, 30);
  EXPECT_EQ(r.usage.completion_tokens, 3);
}

TEST(ScoreCitations, JointSupportMakesBothCitationsPrecise) {
  auto judge = make_judge();
  const auto r = score_citations({"Alpha and beta hold [1][2]."}, kDocs, judge);
  EXPECT_EQ(r.recall, 1.0);
  EXPECT_EQ(r.precision, 1.0);
  EXPECT_EQ(r.details[0].precise, (ints{1, 1}));
}

TEST(ScoreCitations, ThreeCitationsOneRedundant) {
  auto judge = make_judge();
  // [3] alone fails and [1][2] without it still entail: imprecise. [1] and [2] are needed.
  const auto r = score_citations({"Alpha and beta hold [1][2][3]."}, kDocs, judge);
  EXPECT_EQ(r.details[0].precise, (ints{1, 1, 0}));
  EXPECT_DOUBLE_EQ(r.precision, 2.0 / 3.0);
}

TEST(ScoreCitations, UnsupportedCitationsCountButAreNotPrecise) {
  auto judge = make_judge();
  const auto r = score_citations({"Gamma holds [1][2].", "Gamma holds [3]."}, kDocs, judge);
  EXPECT_EQ(r.recall, 0.5);
  EXPECT_EQ(r.citations_counted, 3);
  EXPECT_DOUBLE_EQ(r.precision, 1.0 / 3.0);
  EXPECT_EQ(r.details[0].reason, "not entailed");
  EXPECT_EQ(r.details[0].precise, (ints{0, 0}));
}

TEST(ScoreCitations, MixedAnswer) {
  auto judge = make_judge();
  const auto r = score_citations(
      {"Alpha holds.", "Alpha holds [1][4].", "Alpha holds [1][2].", "Alpha and beta hold [2, 1]."},
      kDocs, judge);
  EXPECT_EQ(r.sentences, 4);
  EXPECT_EQ(r.recall, 0.5);
  EXPECT_EQ(r.citations_counted, 4);
  EXPECT_EQ(r.precision, 0.75);
  EXPECT_EQ(r.nonstandard_markers, 1);
}

TEST(ScoreCitations, MaxCitationsTruncates) {
  auto judge = make_judge();
  const auto r = score_citations({"Alpha and beta hold [3][1][2]."}, kDocs, judge, 2);
  EXPECT_EQ(r.details[0].citations, (ints{3, 1}));
  EXPECT_EQ(r.citations_counted, 2);
  EXPECT_FALSE(r.details[0].supported);  // beta is no longer cited
}

TEST(ScoreCitations, NoSentences) {
  auto judge = make_judge();
  const auto r = score_citations({}, kDocs, judge);
  EXPECT_EQ(r.recall, 0.0);
  EXPECT_EQ(r.precision, 0.0);
  EXPECT_EQ(r.judge_calls, 0);
}

TEST(ScoreCitations, JudgeFailureStopsScoring) {
  auto judge = make_judge(/*fail_on_call=*/2);
  const auto r = score_citations({"Alpha holds [1].", "Alpha holds [1][2].", "Gamma holds [3]."},
                                 kDocs, judge);
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, error_code::unavailable);
  EXPECT_EQ(r.failure->message, "judge down");
  EXPECT_EQ(r.judge_calls, 2);
  EXPECT_EQ(r.usage.prompt_tokens, 20);
  EXPECT_EQ(r.details.size(), 1u);
  EXPECT_EQ(r.recall, 0.0);
  EXPECT_EQ(r.precision, 0.0);
  EXPECT_EQ(judge.calls(), 2);
}

// --- lexical_judge ----------------------------------------------------------------------------

TEST(LexicalJudge, ObviousPairs) {
  lexical_judge judge;
  const std::string premise =
      "Title: Mawsynram\nMawsynram is a town in Meghalaya, India. It receives an average annual "
      "rainfall of 11,872 mm, the highest recorded on Earth.";
  EXPECT_TRUE(judge.judge(premise, "Mawsynram, India has an average annual rainfall of 11,872 mm.")
                  .entailed);
  EXPECT_TRUE(judge.judge(premise, "Mawsynram's rainfall is the highest on Earth.").entailed);
  EXPECT_FALSE(
      judge.judge(premise, "Lloro in Colombia reported 12,717 mm between 1952 and 1989.").entailed);
  EXPECT_FALSE(judge.judge(premise, "").entailed);
  EXPECT_FALSE(judge.judge(premise, "It is what it is.").entailed);  // no content words
  EXPECT_DOUBLE_EQ(judge.coverage(premise, "Mawsynram towns in Peru"), 2.0 / 3.0);
  EXPECT_FALSE(judge.judge(premise, "Mawsynram towns in Peru").entailed);
  EXPECT_EQ(judge.name(), "lexical-coverage@0.75 (approximate, offline)");
}

TEST(LexicalJudge, NumbersMustAllAppear) {
  lexical_judge judge;
  const std::string premise = "The treaty was signed on September 3, 1783, in Paris.";
  EXPECT_TRUE(judge.judge(premise, "The treaty was signed in Paris in 1783.").entailed);
  EXPECT_FALSE(judge.judge(premise, "The treaty was signed in Paris in 1784.").entailed);
  EXPECT_FALSE(
      judge.judge(premise, "The treaty was signed on September 4, 1783, in Paris.").entailed);
  // Thousands separators do not matter; decimal points do.
  EXPECT_TRUE(judge.judge("It got 12717 mm of rain.", "It got 12,717 mm of rain.").entailed);
  EXPECT_FALSE(judge.judge("It grew 3.5 percent.", "It grew 35 percent.").entailed);
  EXPECT_TRUE(judge.judge("It grew 3.5 percent.", "It grew 3.5 percent.").entailed);
}

TEST(LexicalJudge, NormalizationAndNegation) {
  lexical_judge judge;
  // Plurals and possessives.
  EXPECT_TRUE(
      judge.judge("The kickers kicked field goals.", "A kicker kicked a field goal.").entailed);
  EXPECT_TRUE(
      judge.judge("Bloomberg\xE2\x80\x99s administration banned it.", "Bloomberg banned it.")
          .entailed);
  // A negation in the claim must be in the premise.
  EXPECT_FALSE(
      judge.judge("Student loans prevent a mortgage.", "Student loans do not prevent a mortgage.")
          .entailed);
  EXPECT_FALSE(
      judge.judge("Student loans prevent a mortgage.", "Student loans don't prevent a mortgage.")
          .entailed);
  EXPECT_TRUE(judge
                  .judge("Student loans do not prevent a mortgage.",
                         "Student loans never prevent a mortgage.")
                  .entailed);
  EXPECT_TRUE(judge
                  .judge("Student loans won\xE2\x80\x99t prevent a mortgage.",
                         "Student loans do not prevent a mortgage.")
                  .entailed);
  // A stricter threshold.
  lexical_judge strict(1.0);
  EXPECT_FALSE(strict
                   .judge("Galen was played by Roddy McDowall.",
                          "Galen was played by Roddy McDowall in 1974 series.")
                   .entailed);
  EXPECT_EQ(strict.name(), "lexical-coverage@1 (approximate, offline)");
  EXPECT_THROW(lexical_judge(0.0), std::invalid_argument);
  EXPECT_THROW(lexical_judge(1.5), std::invalid_argument);
}

// --- Correctness ------------------------------------------------------------------------------

TEST(NormalizeSquad, LikeAlce) {
  // Expected values from ALCE's normalize_answer under Python 3.
  EXPECT_EQ(normalize_squad("The  Quick, brown fox!"), "quick brown fox");
  EXPECT_EQ(normalize_squad("in the U.S. Army"), "in us army");
  EXPECT_EQ(normalize_squad("a-b the_x an"), "ab thex");
  EXPECT_EQ(normalize_squad("\xE2\x80\x9CThe Gift\xE2\x80\x9D"), "\xE2\x80\x9C gift\xE2\x80\x9D");
  EXPECT_EQ(normalize_squad("\xC3\x89"
                            "COLE d'Art"),
            "\xC3\xA9"
            "cole dart");
  EXPECT_EQ(normalize_squad("caf\xC3\xA9 the"), "caf\xC3\xA9");
  EXPECT_EQ(normalize_squad("x\xC2\xA0the\xE2\x80\x83y"), "x y");
  EXPECT_EQ(normalize_squad("\xCE\x9F\xCE\x94\xCE\xA5\xCE\xA3\xCE\xA3\xCE\x95\xCE\x91\xCE\xA3"),
            "\xCE\xBF\xCE\xB4\xCF\x85\xCF\x83\xCF\x83\xCE\xB5\xCE\xB1\xCF\x82");
  EXPECT_EQ(normalize_squad(""), "");
}

TEST(StrEm, MeanOverQaPairs) {
  const std::string output = "The Eiffel Tower is in Paris, France, and opened in 1889.";
  EXPECT_EQ(str_em(output, {{"Paris"}, {"Berlin", "Germany"}}), 0.5);
  EXPECT_EQ(str_em(output, {{"paris!"}, {"Berlin", "the 1889"}}), 1.0);
  EXPECT_EQ(str_em(output, {{"Rome"}}), 0.0);
  EXPECT_EQ(str_em(output, {}), 0.0);
  EXPECT_EQ(str_em(output, {{}}), 0.0);  // a pair without short answers is never found
  // Substring, not word, match (as in ALCE).
  EXPECT_EQ(str_em(output, {{"Par"}}), 1.0);
  EXPECT_EQ(str_em("In the U.S. it is legal.", {{"United States", "US"}}), 1.0);
}

TEST(QampariScores, LikeAlce) {
  // Expected values from ALCE's compute_qampari_f1 under Python 3.
  const auto s =
      qampari_scores("Marazan, Stephen Morris, No Highway, Foo.", {{"Marazan"},
                                                                   {"Stephen Morris", "Morris"},
                                                                   {"On the Beach"},
                                                                   {"No Highway"},
                                                                   {"Ruined City"},
                                                                   {"Lonely Road"},
                                                                   {"In the Wet"}});
  EXPECT_EQ(s.predictions, 4);
  EXPECT_DOUBLE_EQ(s.precision, 0.75);
  EXPECT_DOUBLE_EQ(s.recall, 3.0 / 7.0);
  EXPECT_DOUBLE_EQ(s.recall_top5, 0.6);
  EXPECT_DOUBLE_EQ(s.f1, 0.5454545454545454);
  EXPECT_DOUBLE_EQ(s.f1_top5, 0.6666666666666665);

  // Repeated predictions count twice toward precision; trailing ".," is removed.
  const auto t = qampari_scores("The Story of Qiu Ju, Mulan, Mulan, , Coming Home,.",
                                {{"Story of Qiu Ju"}, {"Mulan"}, {"Hero"}});
  EXPECT_EQ(t.predictions, 4);
  EXPECT_DOUBLE_EQ(t.precision, 0.75);
  EXPECT_DOUBLE_EQ(t.recall, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(t.recall_top5, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(t.f1, 0.7058823529411765);

  const auto empty = qampari_scores("  ", {{"x"}});
  EXPECT_EQ(empty.predictions, 0);
  EXPECT_EQ(empty.precision, 0.0);
  EXPECT_EQ(empty.recall, 0.0);
  EXPECT_EQ(empty.f1, 0.0);
  EXPECT_EQ(empty.f1_top5, 0.0);

  // "A" alone normalizes to nothing (an article), as in ALCE.
  EXPECT_EQ(qampari_scores("A, B", {}).predictions, 1);
  const auto no_gold = qampari_scores("X, Y", {});
  EXPECT_EQ(no_gold.predictions, 2);
  EXPECT_EQ(no_gold.recall, 0.0);
}

// --- The ALCE demonstration answers -----------------------------------------------------------

struct demo_expectation {
  std::vector<ints> citations;  // per sentence (split_sentences) or claim (qampari_claims)
};

nlohmann::json load_demos(const std::string& name) {
  const std::filesystem::path path =
      std::filesystem::path(YARDSTICK_DATASETS_DIR) / "citations" / "alce-demos" / (name + ".json");
  std::ifstream in(path);
  if (!in) return nullptr;
  return nlohmann::json::parse(in);
}

std::vector<ints> citations_per_sentence(const strings& sentences) {
  std::vector<ints> out;
  for (const auto& s : sentences)
    out.push_back(parse_citations(s, 0).citations);
  return out;
}

TEST(AlceDemos, AsqaAnswersSplitAndCite) {
  const auto demos = load_demos("asqa");
  ASSERT_FALSE(demos.is_null()) << "datasets/citations/alce-demos/asqa.json is missing";
  const std::vector<std::vector<ints>> expected = {
      {{3}, {3, 1}},
      {{2}, {3}},
      {{1, 2}},
      {{2}, {1}},
  };
  ASSERT_EQ(demos["demos"].size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& demo = demos["demos"][i];
    const auto sentences = split_sentences(preprocess_output(demo["answer"].get<std::string>()));
    EXPECT_EQ(citations_per_sentence(sentences), expected[i]) << "demo " << i;
    std::vector<passage> docs;
    for (const auto& doc : demo["docs"])
      docs.push_back({doc["title"].get<std::string>(), doc["text"].get<std::string>()});
    lexical_judge judge;
    const auto r = score_citations(sentences, docs, judge);
    EXPECT_EQ(r.nonstandard_markers, 0);
    for (const auto& d : r.details)
      EXPECT_FALSE(d.out_of_range) << d.sentence;
  }
}

TEST(AlceDemos, Eli5AnswersSplitAndCite) {
  const auto demos = load_demos("eli5");
  ASSERT_FALSE(demos.is_null()) << "datasets/citations/alce-demos/eli5.json is missing";
  const std::vector<std::vector<ints>> expected = {
      {{1, 2, 3}, {2}},
      {{1}, {1, 2}, {2}, {3}},  // the second ends "in 632 A.D. [1][2]."
      {{1, 3}, {1, 2}, {2, 3}},
      {{1}, {1, 2, 3}, {2}, {1}},
  };
  ASSERT_EQ(demos["demos"].size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto sentences =
        split_sentences(preprocess_output(demos["demos"][i]["answer"].get<std::string>()));
    EXPECT_EQ(citations_per_sentence(sentences), expected[i]) << "demo " << i;
  }
  const auto second = split_sentences(demos["demos"][1]["answer"].get<std::string>());
  ASSERT_EQ(second.size(), 4u);
  EXPECT_EQ(second[1],
            "This difference is first formed after the death of the Prophet Muhammad in 632 A.D. "
            "[1][2].");
  // Two dots, as ALCE's remove_citations leaves them.
  EXPECT_EQ(parse_citations(second[1]).claim,
            "This difference is first formed after the death of the Prophet Muhammad in 632 "
            "A.D..");
}

TEST(AlceDemos, QampariAnswersSplitAndCite) {
  const auto demos = load_demos("qampari");
  ASSERT_FALSE(demos.is_null()) << "datasets/citations/alce-demos/qampari.json is missing";
  const std::vector<std::vector<ints>> expected = {
      {{1}, {1}, {2}, {2}, {2}, {2}, {2}, {2}, {3}, {3}, {3}},
      {{1}, {2}, {2}, {3}, {3}, {3}, {3}},
      {{1}, {2}, {3}, {3}, {3}, {3}},
      {{1}, {1}, {2}, {2}, {2}, {3}},
  };
  ASSERT_EQ(demos["demos"].size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& demo = demos["demos"][i];
    const std::string answer = preprocess_output(demo["answer"].get<std::string>());
    const std::string question = demo["question"].get<std::string>();
    const auto claims = qampari_claims(answer, question);
    EXPECT_EQ(citations_per_sentence(claims), expected[i]) << "demo " << i;
    for (const auto& c : claims)
      EXPECT_EQ(c.rfind(question + " ", 0), 0u) << c;
    // As prose, a list is one sentence.
    EXPECT_EQ(split_sentences(answer).size(), 1u) << "demo " << i;
  }
  const auto first = qampari_claims(demos["demos"][0]["answer"].get<std::string>(), "Q");
  EXPECT_EQ(first.front(), "Q Marazan [1]");
  EXPECT_EQ(first.back(), "Q On the Beach [3]");
  EXPECT_EQ(parse_citations(first.back()).claim, "Q On the Beach");
}

}  // namespace
}  // namespace ys::citations
