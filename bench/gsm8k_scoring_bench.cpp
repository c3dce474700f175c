// Scoring throughput over real GSM8K chain-of-thought completions: stop truncation, reasoning
// removal, answer extraction and the comparison with gold, on one core. The Python harnesses this
// replaces do the same with regular expressions at roughly 36,000 samples/s.
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench_report.h"
#include "scorers/numeric_answer.h"

namespace {

constexpr double kTargetSamplesPerSecond = 1'000'000;
constexpr const char* kScoringBenchmark = "BM_gsm8k_scoring";

struct sample {
  std::string completion;
  double gold = 0;
};

struct corpus {
  std::vector<sample> samples;
  std::string error;  // set when the data could not be loaded
};

std::string datasets_path(const std::string& relative) {
  return std::string(YARDSTICK_DATASETS_DIR) + "/" + relative;
}

std::vector<double> load_gold(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<double> gold;
  for (std::string line; std::getline(in, line);) {
    const auto answer = nlohmann::json::parse(line).at("answer").get<std::string>();
    const auto marker = answer.rfind("#### ");
    const auto value = ys::numeric::parse_number(marker == std::string::npos
                                                     ? std::string_view()
                                                     : std::string_view(answer).substr(marker + 5));
    if (!value) throw std::runtime_error("unparsable gold answer in " + path);
    gold.push_back(*value);
  }
  return gold;
}

// Loaded once, outside every timed region.
const corpus& load_corpus() {
  static const corpus loaded = [] {
    corpus result;
    try {
      const auto gold = load_gold(datasets_path("gsm8k/test.jsonl"));
      for (const char* model : {"text-davinci-002", "code-davinci-002"}) {
        const std::string path = datasets_path(fmt::format("gsm8k/outputs/{}.cot.jsonl", model));
        std::ifstream in(path);
        if (!in) throw std::runtime_error("cannot open " + path);
        for (std::string line; std::getline(in, line);) {
          const auto record = nlohmann::json::parse(line);
          const auto id = record.at("id").get<std::size_t>();
          if (id >= gold.size()) throw std::runtime_error("record id out of range in " + path);
          result.samples.push_back({record.at("completion").get<std::string>(), gold[id]});
        }
      }
    } catch (const std::exception& e) {
      result.error = e.what();
    }
    return result;
  }();
  return loaded;
}

const std::vector<std::string>& gsm8k_stops() {
  static const std::vector<std::string> stops = {"Question:",  "Q:",         "</s>",
                                                 "<|im_end|>", "<|eot_id|>", "<|endoftext|>"};
  return stops;
}

void BM_gsm8k_scoring(benchmark::State& state) {
  const corpus& data = load_corpus();
  if (!data.error.empty()) {
    state.SkipWithError(data.error.c_str());
    return;
  }
  const auto& stops = gsm8k_stops();
  std::size_t correct = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    for (const sample& s : data.samples) {
      const auto answer = ys::numeric::extract_final_answer(s.completion, stops);
      correct += answer.value && ys::numeric::same_number(*answer.value, s.gold) ? 1 : 0;
    }
    benchmark::DoNotOptimize(correct);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(data.samples.size()));
  state.counters["samples"] = static_cast<double>(data.samples.size());
}
BENCHMARK(BM_gsm8k_scoring)->Unit(benchmark::kMicrosecond);

// The stages on their own, to show where the time goes when the total regresses.
void BM_gsm8k_truncate_only(benchmark::State& state) {
  const corpus& data = load_corpus();
  if (!data.error.empty()) {
    state.SkipWithError(data.error.c_str());
    return;
  }
  const auto& stops = gsm8k_stops();
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    for (const sample& s : data.samples) {
      benchmark::DoNotOptimize(ys::numeric::truncate_at_stop(s.completion, stops));
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(data.samples.size()));
}
BENCHMARK(BM_gsm8k_truncate_only)->Unit(benchmark::kMicrosecond);

void BM_gsm8k_extract_only(benchmark::State& state) {
  const corpus& data = load_corpus();
  if (!data.error.empty()) {
    state.SkipWithError(data.error.c_str());
    return;
  }
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    for (const sample& s : data.samples) {
      benchmark::DoNotOptimize(ys::numeric::extract_answer(s.completion));
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(data.samples.size()));
}
BENCHMARK(BM_gsm8k_extract_only)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  return ys::bench::run_with_target_line(argc, argv, kScoringBenchmark,
                                         {.what = "gsm8k scoring",
                                          .unit = "samples/s on one core",
                                          .target = kTargetSamplesPerSecond,
                                          .after_target = "; python regex pipeline ~36,000"});
}
