// The `yardstick` command: options and subcommands. Results go to stdout, progress and
// diagnostics to stderr.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <exception>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "adapters/register.h"
#include "cli/profile_command.h"
#include "cli/report_commands.h"
#include "cli/run_command.h"
#include "tasks/register.h"

namespace {

constexpr const char* kExitCodesHelp =
    "Exit codes: 0 every sample was scored; 1 some samples failed or did not run (each failure "
    "is recorded with its error in samples.jsonl); 2 unusable options or input (nothing was "
    "evaluated); 130 interrupted by Ctrl-C or SIGTERM (continue with --resume).";

// Readable range checks: CLI11's PositiveNumber prints the range up to DBL_MAX in full.
const CLI::Validator kAtLeastOne(
    [](std::string& value) {
      long long number = 0;
      if (!CLI::detail::lexical_cast(value, number) || number < 1) {
        return "must be a whole number >= 1, not '" + value + "'";
      }
      return std::string();
    },
    "INT >= 1");
const CLI::Validator kNonNegative(
    [](std::string& value) {
      unsigned long long number = 0;
      if (value.empty() || value.front() == '-' || !CLI::detail::lexical_cast(value, number)) {
        return "must be a whole number >= 0 that fits in 64 bits, not '" + value + "'";
      }
      return std::string();
    },
    "UINT >= 0");
const CLI::Validator kFiniteTemperature(
    [](std::string& value) {
      double number = 0;
      if (!CLI::detail::lexical_cast(value, number) || !std::isfinite(number) || number < 0 ||
          number > 100) {
        return "must be a number from 0 to 100, not '" + value + "'";
      }
      return std::string();
    },
    "0..100");

std::atomic<bool> g_stop_requested{false};

// The first Ctrl-C asks the run to stop after the requests in flight and write its files; a
// second one ends the process at once.
extern "C" void request_stop(int signal_number) {
  g_stop_requested.store(true);
  std::signal(signal_number, SIG_DFL);
  constexpr const char kNote[] =
      "\nstopping after the requests in flight (Ctrl-C again to quit now)...\n";
  [[maybe_unused]] auto written = write(STDERR_FILENO, kNote, sizeof(kNote) - 1);
}

// Unique per invocation: two runs started in the same second must not collide.
std::string default_out_dir() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  return fmt::format("runs/{:%Y%m%d-%H%M%S}.{:03d}-{}",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(now)), ms, getpid());
}

void add_run_options(CLI::App& run, ys::run_command_options& o, std::string& prompt_format) {
  run.add_option("--task,-t", o.tasks,
                 "Task(s) to evaluate, comma-separated: gsm8k, drop, citations")
      ->required()
      ->delimiter(',');
  run.add_option("--model,-m", o.models,
                 "Model spec, repeatable: openai:BASE_URL#MODEL, replay:FILE.jsonl or gold")
      ->required();
  run.add_option("--label", o.labels,
                 "Name shown for each --model, in the same order (default: model name or file)");
  run.add_option("--dataset", o.task.dataset,
                 "Dataset file (default: the task's shipped test set)");
  run.add_option("--limit", o.limit, "Evaluate only the first N samples")->check(kAtLeastOne);
  run.add_option("--shots,-k", o.task.shots,
                 "Few-shot exemplars (GSM8K: 8 from train; DROP: 3 from other passages; "
                 "citations: 2 from other items)")
      ->check(kNonNegative);
  run.add_option("--samples", o.task.samples, "Completions per item; K > 1 adds maj@K and pass@K")
      ->capture_default_str();
  run.add_option("--concurrency,-c", o.concurrency, "Requests in flight at once")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  run.add_option("--seed", o.task.seed, "Seed for exemplar choice and sampling")
      ->check(kNonNegative)
      ->capture_default_str();
  run.add_option("--out,-o", o.out, "Output directory (default: runs/<UTC time>)");
  run.add_option("--prompt-format", prompt_format, "chat (chat/completions) or completion")
      ->check(CLI::IsMember({"chat", "completion"}))
      ->capture_default_str();
  run.add_option("--max-tokens", o.task.max_tokens,
                 "Completion token limit (default: 512; citations: 300)")
      ->check(kAtLeastOne);
  run.add_option("--temperature", o.task.temperature,
                 "Sampling temperature (default: 0, or 0.7 with --samples > 1)")
      ->check(kFiniteTemperature);
  run.add_option("--timeout", o.backend.timeout_s, "Seconds per HTTP attempt (> 0)")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  run.add_option("--max-retries", o.backend.max_retries,
                 "Retries for 429/5xx/timeouts (never for 400/401/403/404)")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  run.add_option("--api-key-env", o.backend.api_key_env,
                 "Name of the environment variable holding the API key")
      ->capture_default_str();
  run.add_option("--judge", o.judge,
                 "citations: entailment judge model spec (default: offline lexical judge)");
  run.add_option("--judge-api-key-env", o.judge_api_key_env,
                 "citations: variable holding the judge's API key (never the model's)")
      ->capture_default_str();
  run.add_option("--judge-template", o.task.judge_template,
                 "citations: file replacing the judge prompt; needs {premise} and {claim}");
  run.add_option("--citation-style", o.task.citation_style,
                 "citations: asqa, qampari or eli5 (default: detected from the data)")
      ->check(CLI::IsMember({"asqa", "qampari", "eli5"}));
  run.add_option("--docs", o.task.docs, "citations: passages shown per question")
      ->check(kAtLeastOne)
      ->capture_default_str();
  run.add_option("--max-citations", o.task.max_citations,
                 "citations: citations judged per sentence")
      ->check(kAtLeastOne)
      ->capture_default_str();
  run.add_flag("--resume", o.resume, "Continue a run in --out: keep scored samples, redo the rest");
  run.add_flag("--overwrite", o.overwrite, "Replace a run already in --out");
  run.add_flag("--quiet,-q", o.quiet, "No progress line on stderr");
}

int list_command() {
  ys::task_registry tasks("task");
  ys::register_tasks(tasks);
  ys::backend_registry backends("back end");
  ys::register_backends(backends);
  fmt::print("tasks:\n");
  for (const auto& name : tasks.names())
    fmt::print("  {:<12} {}\n", name, tasks.description(name));
  fmt::print("back ends:\n");
  for (const auto& name : backends.names()) {
    fmt::print("  {:<12} {}\n", name, backends.description(name));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"yardstick: evaluation and benchmarking harness for large language models"};
  app.footer(kExitCodesHelp);
  app.require_subcommand(1);
  app.set_version_flag("--version", "yardstick 0.1.0");

  ys::run_command_options run_options;
  std::string prompt_format = "chat";
  auto* run = app.add_subcommand("run", "Evaluate tasks with one or more models");
  run->footer(kExitCodesHelp);
  add_run_options(*run, run_options, prompt_format);
  app.add_subcommand("list", "List the registered tasks and back ends");

  ys::compare_command_options compare_options;
  auto* compare = app.add_subcommand(
      "compare", "Paired comparison of two runs on the same items: delta, CI, p-value, flips");
  compare->add_option("run_a", compare_options.run_a, "Run directory A (baseline)")->required();
  compare->add_option("run_b", compare_options.run_b, "Run directory B")->required();
  compare->add_option("--format", compare_options.format, "text, json or md")
      ->check(CLI::IsMember({"text", "json", "md"}))
      ->capture_default_str();
  compare->add_option("--metric", compare_options.metric, "Only this metric");
  compare->add_option("--resamples", compare_options.resamples, "Bootstrap resamples")
      ->check(CLI::Range(1000, 10000000))
      ->capture_default_str();
  compare->add_option("--seed", compare_options.seed, "Bootstrap seed")->capture_default_str();

  ys::gate_command_options gate_options;
  auto* gate = app.add_subcommand(
      "gate", "CI regression gate: exit 1 when the current run is worse than the baseline");
  gate->add_option("--baseline", gate_options.baseline, "Baseline run directory")->required();
  gate->add_option("--current", gate_options.current, "Current run directory")->required();
  gate->add_option("--max-drop", gate_options.max_drop_points,
                   "Allowed drop in points (percent units)")
      ->capture_default_str();
  gate->add_option("--metric", gate_options.metric, "Metric to judge (default: the primary)");
  gate->add_flag("--strict", gate_options.strict,
                 "Judge the point estimate instead of the whole 95% CI");
  gate->add_option("--junit", gate_options.junit, "Also write a JUnit XML file");
  gate->add_flag("--allow-partial", gate_options.allow_partial,
                 "Judge the paired items even when some items are not scored in both runs");
  gate->add_option("--resamples", gate_options.resamples, "Bootstrap resamples")
      ->check(CLI::Range(1000, 10000000))
      ->capture_default_str();
  gate->add_option("--seed", gate_options.seed, "Bootstrap seed")->capture_default_str();
  gate->footer("Exit codes: 0 no regression; 1 regression; 2 unusable input.");

  ys::report_command_options report_options;
  auto* report = app.add_subcommand(
      "report", "Leaderboard of runs, and cost per token from profiles: md, html, csv or json");
  report->add_option("runs", report_options.runs,
                     "Run directories (optional when --profile is given)");
  report
      ->add_option("--profile", report_options.profiles,
                   "A `yardstick profile --format json` file to chart (cost per token vs batch "
                   "size); repeatable")
      ->allow_extra_args(false);
  report->add_option("--format", report_options.format, "md, html, csv or json")
      ->check(CLI::IsMember({"md", "html", "csv", "json"}))
      ->capture_default_str();
  report->add_option("--out", report_options.out, "Write to this file instead of stdout");

  ys::profile_command_options profile_options;
  auto* profile = app.add_subcommand(
      "profile",
      "Cost per token (parameters, FLOPs, bytes, roofline; --measure times it), dense or MoE");
  profile
      ->add_option("--model-config", profile_options.model_config,
                   "A Hugging Face config.json, or a preset: llama-2-7b, llama-3-8b, "
                   "mixtral-8x7b, qwen1.5-moe-a2.7b, deepseek-v3")
      ->required();
  profile->add_option("--context", profile_options.context, "Context length for attention")
      ->capture_default_str();
  profile->add_option("--batch", profile_options.batch, "Decode batch size")->capture_default_str();
  profile
      ->add_option("--device", profile_options.device, "h100-sxm, h200, a100-80gb, l4 or rtx-4090")
      ->capture_default_str();
  profile->add_option("--bytes-per-param", profile_options.bytes_per_param, "2 for bf16")
      ->capture_default_str();
  profile->add_option("--format", profile_options.format, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  // Subcommands inherit the run's exit-code footer; these two only succeed or refuse input.
  constexpr const char* kReadOnlyExitCodes = "Exit codes: 0 done; 2 unusable options or input.";
  profile->footer(kReadOnlyExitCodes);
  report->footer(kReadOnlyExitCodes);
  auto* measure = profile->add_flag(
      "--measure", profile_options.measure,
      "Also time one FFN layer, dense and sparse, at the config's shapes (float32)");
  profile->add_option("--backend", profile_options.backend, "Where --measure runs: cpu or cuda")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str()
      ->needs(measure);
  profile
      ->add_option("--scale", profile_options.scale,
                   "With --measure: multiply hidden size and FFN widths by this, in (0, 1] "
                   "(default: the largest power of 1/2 that fits the backend at 1024 tokens)")
      ->check([](const std::string& text) -> std::string {
        const double value = std::strtod(text.c_str(), nullptr);
        return value > 0 && value <= 1 ? "" : "--scale must be in (0, 1]";
      })
      ->needs(measure);
  profile
      ->add_option("--tokens", profile_options.tokens,
                   "With --measure: token counts (batch sizes) to sweep, comma-separated")
      ->delimiter(',')
      ->capture_default_str()
      ->needs(measure);
  profile
      ->add_option("--threads", profile_options.threads,
                   "With --measure on the CPU: threads (default: OMP_NUM_THREADS, else one per "
                   "core)")
      ->check(CLI::Range(1, 4096))
      ->needs(measure);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : ys::kExitUnusableInput;
  }

  try {
    if (app.got_subcommand("list")) return list_command();
    if (app.got_subcommand("compare")) return ys::compare_command(compare_options);
    if (app.got_subcommand("gate")) return ys::gate_command(gate_options);
    if (app.got_subcommand("report")) return ys::report_command(report_options);
    if (app.got_subcommand("profile")) return ys::profile_command(profile_options);
    run_options.task.style =
        prompt_format == "completion" ? ys::prompt_style::completion : ys::prompt_style::chat;
    if (run_options.out.empty()) run_options.out = default_out_dir();
    run_options.stop_requested = &g_stop_requested;
    std::signal(SIGINT, request_stop);
    std::signal(SIGTERM, request_stop);
    return ys::run_command(run_options);
  } catch (const ys::input_error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return ys::kExitUnusableInput;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return ys::kExitUnusableInput;
  }
}
