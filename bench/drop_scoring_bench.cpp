// DROP scoring throughput on one core: every question of the dev subset (461) scored against all
// of its candidates (answer plus validated answers), the prediction normalized each time, as the
// official scorer's per-question loop does. The official Python scorer manages ~7,400
// questions/s on the same data.
//
// Predictions come from tests/fixtures/drop/official_expected.jsonl, which holds a dozen variants
// per question (the gold answer, dressed-up numbers, reordered, partial and padded span lists,
// written-out dates, wrong and empty answers); question i takes variant i modulo their count, so
// the mix exercises every rule, multi-span assignment included.
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bench/bench_report.h"
#include "scorers/drop_metrics.h"

namespace {

constexpr double kTargetQuestionsPerSecond = 300'000;
constexpr const char* kScoringBenchmark = "BM_drop_scoring";

struct question {
  std::vector<std::string> predicted;
  std::vector<ys::drop::gold_answer> candidates;
  ys::drop::prepared_question prepared;
};

struct corpus {
  std::vector<question> questions;
  std::string error;  // set when the data could not be loaded
};

// Loaded once, outside every timed region.
const corpus& load_corpus() {
  static const corpus loaded = [] {
    corpus result;
    try {
      const std::string dataset = std::string(YARDSTICK_DATASETS_DIR) + "/drop/dev-subset.json";
      std::ifstream data_in(dataset);
      if (!data_in) throw std::runtime_error("cannot open " + dataset);
      const auto data = nlohmann::json::parse(data_in);

      // (query_id, occurrence) -> the predictions written for that question.
      const std::string fixture =
          std::string(YARDSTICK_TEST_DATA_DIR) + "/drop/official_expected.jsonl";
      std::ifstream fixture_in(fixture);
      if (!fixture_in) throw std::runtime_error("cannot open " + fixture);
      std::map<std::pair<std::string, int>, std::vector<std::vector<std::string>>> variants;
      for (std::string line; std::getline(fixture_in, line);) {
        const auto record = nlohmann::json::parse(line);
        if (record.at("dataset") != "dev-subset.json") continue;
        variants[{record.at("query_id").get<std::string>(), record.at("occurrence").get<int>()}]
            .push_back(record.at("predicted").get<std::vector<std::string>>());
      }

      std::map<std::string, int> seen;
      for (const auto& [passage_id, passage] : data.items()) {
        for (const auto& qa : passage.at("qa_pairs")) {
          const auto query_id = qa.at("query_id").get<std::string>();
          const auto found = variants.find({query_id, seen[query_id]++});
          if (found == variants.end() || found->second.empty()) {
            throw std::runtime_error(fmt::format("no prediction in {} for {}", fixture, query_id));
          }
          question q;
          const auto& list = found->second;
          q.predicted = list[result.questions.size() % list.size()];
          q.candidates = ys::drop::candidates_from_json(qa);
          q.prepared = ys::drop::prepared_question(q.candidates);
          result.questions.push_back(std::move(q));
        }
      }
    } catch (const std::exception& e) {
      result.error = e.what();
    }
    return result;
  }();
  return loaded;
}

// Scores every question's prediction against `gold_of(question)` once per iteration; the two
// benchmarks differ only in which form of the gold they pass.
template <typename GoldOf>
void time_scoring(benchmark::State& state, const corpus& data, const GoldOf& gold_of) {
  double f1_sum = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    for (const question& q : data.questions) {
      f1_sum += ys::drop::score_question(q.predicted, gold_of(q)).f1;
    }
    benchmark::DoNotOptimize(f1_sum);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(data.questions.size()));
}

// The intended use: gold prepared once per question, each prediction normalized as it comes.
void BM_drop_scoring(benchmark::State& state) {
  const corpus& data = load_corpus();
  if (!data.error.empty()) {
    state.SkipWithError(data.error.c_str());
    return;
  }
  time_scoring(
      state, data, [](const question& q) -> const auto& { return q.prepared; });
  state.counters["questions"] = static_cast<double>(data.questions.size());
}
BENCHMARK(BM_drop_scoring)->Unit(benchmark::kMicrosecond);

// The same with the gold normalized again for every prediction, as the official scorer does.
void BM_drop_scoring_unprepared_gold(benchmark::State& state) {
  const corpus& data = load_corpus();
  if (!data.error.empty()) {
    state.SkipWithError(data.error.c_str());
    return;
  }
  time_scoring(
      state, data, [](const question& q) -> const auto& { return q.candidates; });
}
BENCHMARK(BM_drop_scoring_unprepared_gold)->Unit(benchmark::kMicrosecond);

// Normalization alone, to show where the time goes when the total regresses.
void BM_drop_normalize_only(benchmark::State& state) {
  const corpus& data = load_corpus();
  if (!data.error.empty()) {
    state.SkipWithError(data.error.c_str());
    return;
  }
  ys::drop::prepared_spans spans;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    for (const question& q : data.questions) {
      spans.assign(q.predicted);
      benchmark::DoNotOptimize(spans.size());
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(data.questions.size()));
}
BENCHMARK(BM_drop_normalize_only)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  return ys::bench::run_with_target_line(argc, argv, kScoringBenchmark,
                                         {.what = "drop scoring",
                                          .unit = "questions/s on one core",
                                          .target = kTargetQuestionsPerSecond,
                                          .after_target = "; official Python scorer ~7,400"});
}
