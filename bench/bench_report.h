// The one-line verdicts the benchmark programs print after Google Benchmark's table: a reporter
// that keeps each benchmark's rate, and the "N per second (target >= M)" line. The lines go to
// rate_reporter::text_stream(), so that --benchmark_format=json or csv leaves stdout parseable.
#pragma once

#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <cstddef>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ys::bench {

// Keeps, per benchmark function, the counters of the run to quote: items_per_second (its rate)
// and any user counter. With --benchmark_repetitions the median is the figure to quote; otherwise
// the one run. Everything it is told goes on to the display reporter Google Benchmark would have
// made itself (CreateDefaultDisplayReporter), so --benchmark_format and --benchmark_color work as
// in any benchmark program. Construct it after benchmark::Initialize, which reads those flags.
class rate_reporter : public benchmark::BenchmarkReporter {
 public:
  // The display reporter is a static object of the library's: it is used, never deleted.
  rate_reporter()
      : display_(benchmark::CreateDefaultDisplayReporter()),
        console_(dynamic_cast<benchmark::ConsoleReporter*>(display_) != nullptr) {}

  // Where a program prints its own lines (verdicts, targets, the device): stdout under the
  // console format; stderr when stdout carries JSON or CSV, which a line of text would break.
  [[nodiscard]] std::FILE* text_stream() const { return console_ ? stdout : stderr; }

  bool ReportContext(const Context& context) override { return display_->ReportContext(context); }

  void Finalize() override { display_->Finalize(); }

  void ReportRuns(const std::vector<Run>& reports) override {
    for (const Run& run : reports) {
      if (run.error_occurred) continue;
      // The function name, exactly: arguments and thread counts are not part of it, and a
      // benchmark whose name merely starts with another's stays apart.
      const std::string& name = run.run_name.function_name;
      const bool is_median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (!is_median && !(run.run_type == Run::RT_Iteration && !have_median_[name])) continue;
      std::map<std::string, double>& kept = counters_[name];
      kept.clear();
      for (const auto& [key, counter] : run.counters)
        kept[key] = counter.value;
      // Also per argument, for programs that sweep one function over sizes.
      by_argument_[name][run.run_name.args] = kept;
      if (const auto rate = kept.find("items_per_second"); rate != kept.end()) {
        per_second_[name] = rate->second;
      } else {
        per_second_.erase(name);
      }
      have_median_[name] = have_median_[name] || is_median;
    }
    display_->ReportRuns(reports);
  }

  // items_per_second of one benchmark, if it ran and reported one.
  std::optional<double> per_second(const std::string& name) const {
    const auto it = per_second_.find(name);
    if (it == per_second_.end()) return std::nullopt;
    return it->second;
  }

  // Every benchmark's items_per_second, by name.
  const std::map<std::string, double>& per_second() const { return per_second_; }

  // A user counter of one benchmark at one argument string ("1024", or "1024/8" for two), 0
  // where there is none.
  double counter(const std::string& name, const std::string& args, const std::string& key) const {
    const auto run = by_argument_.find(name);
    if (run == by_argument_.end()) return 0.0;
    const auto at = run->second.find(args);
    if (at == run->second.end()) return 0.0;
    const auto it = at->second.find(key);
    return it == at->second.end() ? 0.0 : it->second;
  }

  // A user counter of one benchmark, 0 where there is none.
  double counter(const std::string& name, const std::string& key) const {
    const auto run = counters_.find(name);
    if (run == counters_.end()) return 0.0;
    const auto it = run->second.find(key);
    return it == run->second.end() ? 0.0 : it->second;
  }

 private:
  benchmark::BenchmarkReporter* display_;
  bool console_;
  std::map<std::string, double> per_second_;
  std::map<std::string, std::map<std::string, double>> counters_;
  std::map<std::string, std::map<std::string, std::map<std::string, double>>> by_argument_;
  std::map<std::string, bool> have_median_;
};

// How the verdict reads: `below_only` appends " BELOW TARGET" to a miss and nothing to a hit;
// `always` appends ": meets target" or ": BELOW target".
enum class verdict_style { below_only, always };

struct target_line {
  std::string_view what;          // "drop scoring"
  std::string_view unit;          // "questions/s on one core"
  double target = 0;              // the rate to reach, printed with thousands separators
  std::string_view after_target;  // inside the parentheses: "; official Python scorer ~7,400"
  verdict_style style = verdict_style::below_only;
};

// 1000000 -> "1,000,000".
inline std::string with_thousands_separators(double value) {
  std::string digits = fmt::format("{:.0f}", value);
  const std::size_t first = digits.front() == '-' ? 1 : 0;
  for (std::size_t i = digits.size(); i > first + 3; i -= 3)
    digits.insert(i - 3, 1, ',');
  return digits;
}

// "<what>: <rate> <unit> (target >= <target><after_target>)<verdict>"
inline std::string format_target_line(const target_line& line, double rate) {
  const bool met = rate >= line.target;
  std::string_view verdict;
  if (line.style == verdict_style::below_only) {
    verdict = met ? "" : " BELOW TARGET";
  } else {
    verdict = met ? ": meets target" : ": BELOW target";
  }
  return fmt::format("{}: {:.0f} {} (target >= {}{}){}\n", line.what, rate, line.unit,
                     with_thousands_separators(line.target), line.after_target, verdict);
}

inline void print_target_line(std::FILE* stream, const target_line& line, double rate) {
  fmt::print(stream, "{}", format_target_line(line, rate));
}

// The whole main() of a program whose summary is one target line: runs the benchmarks that the
// command line selects, then prints `line` with the rate of `benchmark_name` where it ran.
inline int run_with_target_line(int argc, char** argv, const std::string& benchmark_name,
                                const target_line& line) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  rate_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  if (const auto rate = reporter.per_second(benchmark_name)) {
    print_target_line(reporter.text_stream(), line, *rate);
  }
  return 0;
}

}  // namespace ys::bench
