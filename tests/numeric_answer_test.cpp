#include "scorers/numeric_answer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ys::numeric {
namespace {

const std::vector<std::string> kNoStops;
const std::vector<std::string> kGsm8kStops = {"Question:",  "Q:",         "</s>",
                                              "<|im_end|>", "<|eot_id|>", "<|endoftext|>"};

// The extracted value, or NaN when invalid, so that EXPECT_EQ shows both sides on failure.
double value_of(std::string_view text) {
  const auto result = extract_answer(text);
  return result.value.value_or(std::numeric_limits<double>::quiet_NaN());
}

double final_value_of(std::string_view completion, const std::vector<std::string>& stops) {
  const auto result = extract_final_answer(completion, stops);
  return result.value.value_or(std::numeric_limits<double>::quiet_NaN());
}

answer_source source_of(std::string_view text) {
  return extract_answer(text).source;
}

// --- truncate_at_stop ----------------------------------------------------------------------

TEST(TruncateAtStop, NoStopsKeepsEverything) {
  EXPECT_EQ(truncate_at_stop("The answer is 5.", kNoStops), "The answer is 5.");
  EXPECT_EQ(truncate_at_stop("", kGsm8kStops), "");
}

TEST(TruncateAtStop, CutsAtTheEarliestOfAnyStop) {
  const std::vector<std::string> stops = {"Question:", "Q:"};
  EXPECT_EQ(truncate_at_stop("one Q: two Question: three", stops), "one ");
  EXPECT_EQ(truncate_at_stop("one Question: two Q: three", stops), "one ");
  EXPECT_EQ(truncate_at_stop("Q: at the start", stops), "");
  EXPECT_EQ(truncate_at_stop("ends with Q:", stops), "ends with ");
}

TEST(TruncateAtStop, LaterStopThatStartsBeforeTheCutWins) {
  // "xyz" is found first at 2; "bx" starts at 1 but runs past the cut, and must still count.
  EXPECT_EQ(truncate_at_stop("abxyz", {"xyz", "bx"}), "a");
}

TEST(TruncateAtStop, EmptyStopIsIgnored) {
  EXPECT_EQ(truncate_at_stop("The answer is 5.", {"", "Q:"}), "The answer is 5.");
}

TEST(TruncateAtStop, ReturnsAViewIntoTheInput) {
  const std::string text = "The answer is 5.</s>junk";
  const auto cut = truncate_at_stop(text, kGsm8kStops);
  EXPECT_EQ(cut, "The answer is 5.");
  EXPECT_EQ(cut.data(), text.data());
}

// --- remove_reasoning ------------------------------------------------------------------------

TEST(RemoveReasoning, TextWithoutTagsIsReturnedAsIs) {
  const std::string text = "The answer is 5 <b>bold</b>.";
  std::string scratch;
  const auto kept = remove_reasoning(text, scratch);
  EXPECT_EQ(kept, text);
  EXPECT_EQ(kept.data(), text.data());
}

TEST(RemoveReasoning, LeadingBlockIsCutWithoutCopying) {
  const std::string text = "<think>maybe the answer is 4</think>The answer is 5.";
  std::string scratch;
  const auto kept = remove_reasoning(text, scratch);
  EXPECT_EQ(kept, "The answer is 5.");
  EXPECT_GE(kept.data(), text.data());
  EXPECT_LT(kept.data(), text.data() + text.size());
}

TEST(RemoveReasoning, UnclosedBlockRemovesTheRest) {
  std::string scratch;
  EXPECT_EQ(remove_reasoning("Answer 3 <think>the answer is 4", scratch), "Answer 3 ");
  EXPECT_EQ(remove_reasoning("<think>", scratch), "");
  EXPECT_EQ(remove_reasoning("<think>all of it", scratch), "");
}

TEST(RemoveReasoning, StrayCloseRemovesEverythingBefore) {
  std::string scratch;
  // The prompt opened the block, as some chat templates do.
  EXPECT_EQ(remove_reasoning("so 4 maybe</think> The answer is 5.", scratch), " The answer is 5.");
  EXPECT_EQ(remove_reasoning("<think>a</think>kept 1</think>final 2", scratch), "final 2");
  EXPECT_EQ(remove_reasoning("all reasoning</think>", scratch), "");
}

TEST(RemoveReasoning, MiddleBlockIsJoinedInScratch) {
  std::string scratch;
  const auto kept = remove_reasoning("First 1 <think>x 2</think> then 3", scratch);
  EXPECT_EQ(kept, "First 1   then 3");  // "First 1 " + the joining space + " then 3"
  EXPECT_EQ(kept.data(), scratch.data());
}

TEST(RemoveReasoning, SeveralBlocks) {
  std::string scratch;
  EXPECT_EQ(remove_reasoning("<think>a</think>A<think>b</think>B<think>c</think>", scratch), "A B");
}

TEST(RemoveReasoning, JoinDoesNotFuseNumbers) {
  EXPECT_EQ(final_value_of("12<think>hmm</think>34", kNoStops), 34);
}

TEST(RemoveReasoning, AnswerInsideReasoningIsIgnored) {
  EXPECT_EQ(final_value_of("<think>The answer is 7.</think>The answer is 9.", kNoStops), 9);
  EXPECT_EQ(final_value_of("The answer is 9.<think>The answer is 7.</think>", kNoStops), 9);
  EXPECT_EQ(final_value_of("Wait, 7? The answer is 7.</think>\n\n**18**", kNoStops), 18);
  // Unclosed: the model ran out of tokens while thinking, so only the text before counts.
  EXPECT_TRUE(std::isnan(final_value_of("<think>The answer is 7 so far", kNoStops)));
}

// --- markers ---------------------------------------------------------------------------------

TEST(Markers, EveryMarkerForm) {
  EXPECT_EQ(value_of("She has 3 left.\n#### 18"), 18);
  EXPECT_EQ(value_of("So 2 + 2 = 4. The answer is 18."), 18);
  EXPECT_EQ(value_of("THE ANSWER IS 18 and 4 more"), 18);
  EXPECT_EQ(value_of("So 2 + 2 = 4. the final answer is 18 for 4 days"), 18);
  EXPECT_EQ(value_of("Final answer is: 18 (not 4)"), 18);
  EXPECT_EQ(value_of("So 4 days give \\boxed{18} in all, 4 each"), 18);
  EXPECT_EQ(value_of("$\\boxed{18}$ for 4"), 18);
  EXPECT_EQ(source_of("The answer is 18."), answer_source::marker);
}

TEST(Markers, MarkerBeatsLaterNumbers) {
  EXPECT_EQ(value_of("The answer is 18. That took 3 steps and 2 minutes."), 18);
  EXPECT_EQ(value_of("#### 18\nChecked with 5 * 3 + 3 = 19."), 18);
}

TEST(Markers, LastMarkerWins) {
  EXPECT_EQ(value_of("The answer is 5.\n\nThe answer is 7."), 7);
  EXPECT_EQ(value_of("#### 5\nThe answer is 7."), 7);
  EXPECT_EQ(value_of("The answer is 5. \\boxed{6} The answer is 7."), 7);
  EXPECT_EQ(value_of("The answer is 7. \\boxed{6}"), 6);
}

TEST(Markers, ExemplarRepeatsAreCutByStops) {
  const std::string completion =
      " 2 + 3 = 5. The answer is 5.\n\nQ: Tom has 3 apples and buys 4. How many?\nA: 3 + 4 = 7. "
      "The answer is 7.";
  EXPECT_EQ(final_value_of(completion, {"Q:", "Question:"}), 5);
  EXPECT_EQ(final_value_of(completion, kNoStops), 7);  // without stops, the last marker
  const std::string question_form =
      "The answer is 12.\n\nQuestion: If 8 birds fly away, how many are left?\nThe answer is 8.";
  EXPECT_EQ(final_value_of(question_form, kGsm8kStops), 12);
}

TEST(Markers, MarkerWithoutNumberFallsBackToEarlierMarker) {
  EXPECT_EQ(value_of("The answer is 12. Checking: the answer is unclear, 3 + 4 = 7."), 12);
  EXPECT_EQ(value_of("#### 12\nThe answer is correct, as 3 + 4 = 7"), 12);
}

TEST(Markers, MarkerWithoutNumberFallsBackToLastNumber) {
  EXPECT_EQ(value_of("3 + 4 = 7. The answer is seven, 7 apples"), 7);
  EXPECT_EQ(source_of("3 + 4 = 7. The answer is seven, 7 apples"), answer_source::last_number);
  EXPECT_EQ(value_of("The answer is impossible since $2 - $4 = -$2."), -2);
  // The number must be on the marker's line.
  EXPECT_EQ(value_of("The answer is\n\n18 apples and 4 pears"), 4);
}

TEST(Markers, MarkerAtTheVeryEnd) {
  EXPECT_EQ(value_of("3 + 4 = 7. The answer is"), 7);
  EXPECT_EQ(value_of("3 + 4 = 7. The answer is "), 7);
  EXPECT_EQ(value_of("3 + 4 = 7\n####"), 7);
  EXPECT_EQ(value_of("3 + 4 = 7 \\boxed{"), 7);
  EXPECT_EQ(value_of("3 + 4 = 7 \\boxed{}"), 7);
  EXPECT_EQ(source_of("3 + 4 = 7. The answer is"), answer_source::last_number);
}

TEST(Markers, NumberAtTheVeryEndOfAMarker) {
  EXPECT_EQ(value_of("The answer is 7"), 7);
  EXPECT_EQ(value_of("####7"), 7);
  EXPECT_EQ(value_of("\\boxed{7"), 7);  // cut off by max_tokens inside the box
}

TEST(Markers, PhraseMustBeWhole) {
  EXPECT_EQ(value_of("The answer isn't 5, it's 6"), 6);
  EXPECT_EQ(source_of("The answer isn't 5, it's 6"), answer_source::last_number);
  EXPECT_EQ(value_of("My answer is 5 (of 6)"), 5);
  EXPECT_EQ(value_of("Reanswer is 5 of 6"), 6);
}

TEST(Markers, HashMarkerNeedsFourHashes) {
  EXPECT_EQ(value_of("### 5\nso 6"), 6);
  EXPECT_EQ(value_of("#### Step 1\nAdd 2 and 3 to get 5"), 5);
  EXPECT_EQ(value_of("##### 5\nso 6"), 5);
}

TEST(Markers, DecorationsBetweenMarkerAndNumber) {
  EXPECT_EQ(value_of("The answer is: 18 of 20"), 18);
  EXPECT_EQ(value_of("The answer is **18** of 20"), 18);
  EXPECT_EQ(value_of("**The answer is: $18**, 20 less"), 18);
  EXPECT_EQ(value_of("The answer is \\(18\\) of 20"), 18);
  EXPECT_EQ(value_of("The answer is \\$18 of 20"), 18);
  EXPECT_EQ(value_of("The answer is $\\$18$ of 20"), 18);
  EXPECT_EQ(value_of("The answer is {18} of 20"), 18);
  EXPECT_EQ(value_of("The answer is \t 18 of 20"), 18);
}

TEST(Markers, EquationAfterMarkerUsesTheResult) {
  EXPECT_EQ(value_of("The answer is 3 + 4 + 0 = 7."), 7);
  EXPECT_EQ(value_of("The answer is $540 - $480 = $60."), 60);
  EXPECT_EQ(value_of("The answer is 50% - 25% = 25%."), 25);
  EXPECT_EQ(value_of("The answer is 6 / 12 = 1/2 = 50%."), 50);
  EXPECT_EQ(value_of("The answer is 3 + 2.5 = 5.5 cups of flour."), 5.5);
  EXPECT_EQ(value_of("\\boxed{3 + 4 = 7}"), 7);
  // The equation must be in the marker's clause.
  EXPECT_EQ(value_of("The answer is 5. Check: 2 + 2 = 4."), 5);
  EXPECT_EQ(value_of("The answer is 5, not 2 + 2 = 4."), 5);
  EXPECT_EQ(value_of("The answer is 5\n2 + 2 = 4"), 5);
  // Comparisons are not results.
  EXPECT_EQ(value_of("The answer is 5 >= 3."), 5);
  EXPECT_EQ(value_of("The answer is 5, since 5 <= 9"), 5);
  EXPECT_EQ(value_of("The answer is 5 != 3 == 3"), 5);
  // A decimal point does not end the clause.
  EXPECT_EQ(value_of("The answer is 1.5 + 2.5 = 4.0 hours."), 4);
}

TEST(Markers, FractionsInAnswerAreEvaluated) {
  EXPECT_DOUBLE_EQ(value_of("The answer is 19/3."), 19.0 / 3.0);
  EXPECT_EQ(value_of("The answer is 3/4 hour."), 0.75);
  EXPECT_EQ(value_of("#### -1/2"), -0.5);
  EXPECT_EQ(value_of("The answer is 5/0."), 5);  // no division by zero, the numerator stands
  // Outside a marker a slash is more often a unit or a date; the last number is taken.
  EXPECT_EQ(value_of("So x = 22/7"), 7);
}

// --- LaTeX -----------------------------------------------------------------------------------

TEST(Latex, BoxedContents) {
  EXPECT_EQ(value_of("\\boxed{\\frac{1}{2}}"), 0.5);
  EXPECT_EQ(value_of("\\boxed{\\dfrac{3}{4}}"), 0.75);
  EXPECT_EQ(value_of("\\boxed{-\\frac{3}{4}}"), -0.75);
  EXPECT_EQ(value_of("\\boxed{\\frac{1{,}000}{4}}"), 250);
  EXPECT_EQ(value_of("\\boxed{\\text{18 dollars}}"), 18);
  EXPECT_EQ(value_of("\\boxed{18 \\text{ dollars}}"), 18);
  EXPECT_EQ(value_of("\\boxed{\\$1{,}234.00}"), 1234);
  EXPECT_EQ(value_of("\\boxed{18\\%}"), 18);
  EXPECT_EQ(value_of("\\boxed {18}"), 18);
  EXPECT_EQ(value_of("\\[\n\\boxed{1{,}234}\n\\]"), 1234);
  EXPECT_EQ(value_of("The final answer is $\\boxed{42}$."), 42);
}

TEST(Latex, BoxWithoutLeadingNumberIsSkipped) {
  EXPECT_EQ(value_of("The answer is 12. \\boxed{x}"), 12);
  EXPECT_EQ(value_of("so x = 5 and \\boxed{x = 5}"), 5);
  EXPECT_EQ(source_of("so x = 5 and \\boxed{x = 5}"), answer_source::last_number);
}

TEST(Latex, NumbersOutsideABox) {
  EXPECT_EQ(value_of("It costs \\$18."), 18);
  EXPECT_EQ(value_of("It costs \\(18\\)."), 18);
  EXPECT_EQ(value_of("It costs 1{,}234 dollars"), 1234);
  EXPECT_EQ(value_of("It costs -\\$5"), -5);
}

// --- numbers ---------------------------------------------------------------------------------

TEST(Numbers, CurrencyAndThousandsSeparators) {
  EXPECT_EQ(value_of("The answer is $1,234.00."), 1234);
  EXPECT_EQ(value_of("He made $100,000"), 100000);
  EXPECT_EQ(value_of("They sold 8,000 tickets"), 8000);
  EXPECT_EQ(value_of("The answer is 1,234,567.5"), 1234567.5);
  EXPECT_EQ(extract_answer("The answer is $1,234.00.").text, "1234");
}

TEST(Numbers, CommaWithoutThreeDigitsSeparatesNumbers) {
  EXPECT_EQ(value_of("pick 1,2"), 2);
  EXPECT_EQ(value_of("pick 3,45"), 45);
  EXPECT_EQ(value_of("pick 1,2345"), 2345);
  EXPECT_EQ(value_of("pick 1,000,00"), 0);
  EXPECT_EQ(value_of("The answer is 1,2"), 1);
  EXPECT_EQ(value_of("The answer is 200, 40, and 40."), 200);
}

TEST(Numbers, TrailingPeriodAndZeroDecimals) {
  EXPECT_EQ(value_of("The total is 18."), 18);
  EXPECT_EQ(value_of("The answer is 18."), 18);
  EXPECT_EQ(value_of("The answer is 18.0"), 18);
  EXPECT_EQ(value_of("It is 18.0."), 18);
  EXPECT_EQ(value_of("It is 18.50. Done."), 18.5);
  EXPECT_EQ(extract_answer("The answer is 18.000.").text, "18");
}

TEST(Numbers, LeadingDecimalPoint) {
  EXPECT_EQ(value_of("She needs .75 gift bags"), 0.75);
  EXPECT_EQ(value_of("The answer is .5"), 0.5);
}

TEST(Numbers, Negatives) {
  EXPECT_EQ(value_of("The answer is -5."), -5);
  EXPECT_EQ(value_of("The answer is -$10,000."), -10000);
  EXPECT_EQ(value_of("The answer is $-5."), -5);
  EXPECT_EQ(value_of("The answer is \xE2\x88\x92"
                     "5."),
            -5);
  EXPECT_EQ(value_of("So x = -4"), -4);
  EXPECT_EQ(value_of("She owes -$10,000"), -10000);
  EXPECT_EQ(value_of("She owes $-5"), -5);
  EXPECT_EQ(value_of("temperature \xE2\x88\x92"
                     "7"),
            -7);
  EXPECT_EQ(value_of("**-18**"), -18);
  EXPECT_EQ(value_of("-3"), -3);
}

TEST(Numbers, MinusBetweenOperandsIsNotASign) {
  EXPECT_EQ(value_of("16-7"), 7);
  EXPECT_EQ(value_of("16 - 7"), 7);
  EXPECT_EQ(value_of("(16+2)-7"), 7);
  EXPECT_EQ(value_of("x-7"), 7);
  EXPECT_EQ(value_of("16\xE2\x88\x92"
                     "7"),
            7);
}

TEST(Numbers, BoldAndPercent) {
  EXPECT_EQ(value_of("Total: **18**"), 18);
  EXPECT_EQ(value_of("The answer is 75%."), 75);
  EXPECT_EQ(value_of("That leaves 75% of them"), 75);
  EXPECT_EQ(value_of("The answer is 2.5%."), 2.5);
}

TEST(Numbers, LastNumberWithoutMarker) {
  EXPECT_EQ(value_of("3 + 4 = 7 eggs, sold at $2 each makes $14."), 14);
  EXPECT_EQ(source_of("3 + 4 = 7"), answer_source::last_number);
  EXPECT_EQ(value_of("42 is what I got"), 42);
  EXPECT_EQ(value_of("I got 42"), 42);
  EXPECT_EQ(value_of("7"), 7);
  EXPECT_EQ(value_of("It took 10am to 3pm"), 3);
}

TEST(Numbers, NothingNumericIsInvalid) {
  for (std::string_view text :
       {"", " ", "no numbers here", "The answer is", "####", "-", "$.", ",", "...", "\\boxed{}"}) {
    const auto result = extract_answer(text);
    EXPECT_FALSE(result.value.has_value()) << text;
    EXPECT_EQ(result.text, kInvalid) << text;
    EXPECT_EQ(result.source, answer_source::none) << text;
  }
  EXPECT_EQ(value_of("1,"), 1);
  EXPECT_EQ(extract_final_answer("Q: 5 apples", kGsm8kStops).text, kInvalid);
}

TEST(Numbers, LongNumbers) {
  // More digits than a 64-bit mantissa holds: compared with the C library's conversion.
  for (const char* digits :
       {"12345678901234567890123", "0.0000000000000000000000000123",
        "3.14159265358979323846264338327950288", "9007199254740993", "123456789012.345678901"}) {
    EXPECT_DOUBLE_EQ(value_of(digits), std::strtod(digits, nullptr)) << digits;
  }
  EXPECT_EQ(value_of("0.000"), 0);
  EXPECT_EQ(value_of("007"), 7);
  EXPECT_TRUE(std::isinf(value_of("1" + std::string(400, '0'))));
}

TEST(Numbers, ExtractionTextIsCanonical) {
  EXPECT_EQ(extract_answer("The answer is -0.50").text, "-0.5");
  EXPECT_EQ(extract_answer("The answer is -0").text, "0");
  EXPECT_EQ(extract_answer("The answer is 1,234.0").text, "1234");
}

// --- parse_number ----------------------------------------------------------------------------

TEST(ParseNumber, GoldForms) {
  EXPECT_EQ(parse_number("1,234"), 1234);
  EXPECT_EQ(parse_number("-5"), -5);
  EXPECT_EQ(parse_number("18.0"), 18);
  EXPECT_EQ(parse_number("18."), 18);
  EXPECT_EQ(parse_number("$3.50"), 3.5);
  EXPECT_EQ(parse_number("-$10,000"), -10000);
  EXPECT_EQ(parse_number("\xE2\x88\x92"
                         "5"),
            -5);
  EXPECT_EQ(parse_number(" 42\n"), 42);
  EXPECT_EQ(parse_number("75%"), 75);
  EXPECT_EQ(parse_number(".5"), 0.5);
  EXPECT_DOUBLE_EQ(*parse_number("19/3"), 19.0 / 3.0);
}

TEST(ParseNumber, NonNumbers) {
  EXPECT_EQ(parse_number(""), std::nullopt);
  EXPECT_EQ(parse_number("   "), std::nullopt);
  EXPECT_EQ(parse_number("abc"), std::nullopt);
  EXPECT_EQ(parse_number("-"), std::nullopt);
  EXPECT_EQ(parse_number("$"), std::nullopt);
  EXPECT_EQ(parse_number("12 apples"), std::nullopt);
  EXPECT_EQ(parse_number("1,2"), std::nullopt);
  EXPECT_EQ(parse_number("1e5"), std::nullopt);
  EXPECT_EQ(parse_number("18.."), std::nullopt);
  EXPECT_EQ(parse_number(kInvalid), std::nullopt);
}

// --- same_number and canonical_text ----------------------------------------------------------

TEST(SameNumber, RelativeTolerance) {
  EXPECT_TRUE(same_number(18, 18.0));
  EXPECT_TRUE(same_number(18, 18.000000000001));
  EXPECT_TRUE(same_number(1e12, 1e12 + 1));  // 1e-12 relative
  EXPECT_FALSE(same_number(18, 18.0001));
  EXPECT_FALSE(same_number(1e6, 1e6 + 1));
  EXPECT_FALSE(same_number(-5, 5));
  EXPECT_TRUE(same_number(0, 0));
  EXPECT_TRUE(same_number(0.0, -0.0));
  EXPECT_FALSE(same_number(0, 1e-12));  // relative: nothing is near zero but zero
  EXPECT_TRUE(same_number(0.1 + 0.2, 0.3));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(same_number(nan, nan));
  EXPECT_FALSE(same_number(nan, 1));
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(same_number(inf, inf));
  EXPECT_FALSE(same_number(inf, 1e308));
}

TEST(CanonicalText, ShortestRoundTrip) {
  EXPECT_EQ(canonical_text(18), "18");
  EXPECT_EQ(canonical_text(-0.5), "-0.5");
  EXPECT_EQ(canonical_text(1234.0), "1234");
  EXPECT_EQ(canonical_text(-0.0), "0");
  EXPECT_EQ(canonical_text(-42), "-42");
  EXPECT_EQ(canonical_text(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(canonical_text(19.0 / 3.0), "6.333333333333333");
  EXPECT_EQ(canonical_text(1e15), "1000000000000000");
  EXPECT_EQ(canonical_text(1e20), "1e+20");
  EXPECT_EQ(canonical_text(2.5e-7), "2.5e-07");
  for (double v : {0.1, 123.456, -7.25, 1e-3, 98957.52}) {
    EXPECT_EQ(parse_number(canonical_text(v)), v) << v;
  }
}

// --- the shipped GSM8K outputs ---------------------------------------------------------------

struct model_score {
  int records = 0;
  int correct = 0;
  int invalid = 0;
};

std::vector<double> load_gold() {
  std::ifstream in(std::string(YARDSTICK_DATASETS_DIR) + "/gsm8k/test.jsonl");
  std::vector<double> gold;
  for (std::string line; std::getline(in, line);) {
    const auto answer = nlohmann::json::parse(line).at("answer").get<std::string>();
    const auto marker = answer.rfind("#### ");
    EXPECT_NE(marker, std::string::npos) << answer;
    const auto value = parse_number(std::string_view(answer).substr(marker + 5));
    EXPECT_TRUE(value.has_value()) << answer;
    gold.push_back(value.value_or(std::numeric_limits<double>::quiet_NaN()));
  }
  return gold;
}

model_score score_model(const std::string& model, const std::vector<double>& gold) {
  std::ifstream in(std::string(YARDSTICK_DATASETS_DIR) + "/gsm8k/outputs/" + model + ".cot.jsonl");
  EXPECT_TRUE(in.good()) << model;
  model_score score;
  for (std::string line; std::getline(in, line);) {
    const auto record = nlohmann::json::parse(line);
    const auto id = record.at("id").get<std::size_t>();
    EXPECT_LT(id, gold.size());
    if (id >= gold.size()) continue;
    const auto answer =
        extract_final_answer(record.at("completion").get<std::string>(), kGsm8kStops);
    ++score.records;
    if (!answer.value) {
      ++score.invalid;
    } else if (same_number(*answer.value, gold[id])) {
      ++score.correct;
    }
  }
  return score;
}

// Pinned after reading every completion where the extraction disagreed with the raw text after
// "The answer is": the remaining misses are wrong model answers, not extraction errors.
TEST(ShippedOutputs, Gsm8kAccuracyIsPinned) {
  const auto gold = load_gold();
  ASSERT_EQ(gold.size(), 1319u);

  const auto text = score_model("text-davinci-002", gold);
  EXPECT_EQ(text.records, 1319);
  EXPECT_EQ(text.correct, 679);  // 51.48%
  EXPECT_EQ(text.invalid, 0);

  const auto code = score_model("code-davinci-002", gold);
  EXPECT_EQ(code.records, 1319);
  EXPECT_EQ(code.correct, 838);  // 63.53%
  EXPECT_EQ(code.invalid, 2);
}

TEST(ShippedOutputs, SpotChecks) {
  // Values read by hand from the shipped completions.
  EXPECT_EQ(final_value_of(" He made a profit of $230,000 - $80,000 - $50,000 = $100,000. The "
                           "answer is $100,000.",
                           kGsm8kStops),
            100000);
  EXPECT_EQ(final_value_of(" So she has spent $4 + 2 * x. This means 2 * x = $2 - $4 = -$2. "
                           "Therefore, the answer is impossible.",
                           kGsm8kStops),
            -2);
  EXPECT_EQ(final_value_of(" The answer is x = 27 - 7 = 20.", kGsm8kStops), 20);
  EXPECT_EQ(final_value_of(" Christina needs .75 * 16 * $2 = $24 on gift bags.", kGsm8kStops), 24);
}

}  // namespace
}  // namespace ys::numeric

namespace ys::numeric {
namespace {

TEST(Reasoning, StopWrittenInsideThinkingDoesNotHideTheAnswer) {
  const std::vector<std::string> stops = {"Question:", "Q:"};
  EXPECT_EQ(extract_final_answer("<think>Q: what if 7? No.</think>The answer is 18.", stops).text,
            "18");
  // A stop after the reasoning still cuts an invented next turn.
  EXPECT_EQ(
      extract_final_answer("<think>hmm</think>The answer is 18.\nQ: next? The answer is 3.", stops)
          .text,
      "18");
}

}  // namespace
}  // namespace ys::numeric
