#include "cli/run_command.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "adapters/http_backend.h"
#include "adapters/register.h"
#include "harness/build_info.h"
#include "harness/progress.h"
#include "harness/run_files.h"
#include "harness/runner.h"
#include "scorers/stats.h"
#include "tasks/register.h"

namespace ys {

namespace {

// A failing back end is given this many samples (or twice the concurrency, if more) before a
// run with no success at all stops early.
constexpr std::size_t kAbortAfterFailures = 16;

// One (task, model) pair, planned and validated before anything runs.
struct planned_run {
  std::string task_name;
  std::shared_ptr<task> evaluated;
  std::shared_ptr<std::vector<sample>> all_items;
  std::size_t model_index = 0;
  std::string label;
  std::filesystem::path dir;
  nlohmann::json identity;  // what a --resume must match
};

struct evaluated_run {
  std::string task;
  std::string label;
  std::filesystem::path dir;
  nlohmann::json summary;
  std::vector<std::string> metric_order;  // the task's display order (JSON objects sort keys)
};

double percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const auto index =
      static_cast<std::size_t>(std::lround(fraction * static_cast<double>(values.size() - 1)));
  return values[std::min(index, values.size() - 1)];
}

// A label as a folder name: characters outside [A-Za-z0-9._+@=-] become '_', so a model called
// "org/model" or a label of ".." never writes outside --out.
std::string folder_name(const std::string& label) {
  std::string name;
  for (const unsigned char c : label) {
    const bool safe = std::isalnum(c) != 0 || std::string_view("._+@=-").find(
                                                  static_cast<char>(c)) != std::string_view::npos;
    name += safe ? static_cast<char>(c) : '_';
  }
  if (name.empty() || name.find_first_not_of('.') == std::string::npos) name = "_" + name;
  return name;
}

// Where a (task, model) pair writes: subfolders only for the dimensions that vary.
std::filesystem::path run_dir(const run_command_options& options, const std::string& task_name,
                              const std::string& label) {
  auto dir = options.out;
  if (options.models.size() > 1) dir /= folder_name(label);
  if (options.tasks.size() > 1) dir /= task_name;
  return dir;
}

// The differences between two identities, as "key: old -> new" lines.
std::vector<std::string> identity_differences(const nlohmann::json& before,
                                              const nlohmann::json& now) {
  std::vector<std::string> out;
  const auto patch = nlohmann::json::diff(before, now);
  for (const auto& op : patch) {
    const std::string path = op.value("path", "");
    const auto pointer = nlohmann::json::json_pointer(path);
    const std::string old_value = before.contains(pointer) ? before[pointer].dump() : "(none)";
    const std::string new_value = now.contains(pointer) ? now[pointer].dump() : "(none)";
    out.push_back(fmt::format("{}: {} -> {}", path, old_value, new_value));
  }
  return out;
}

// Checks that `plan.dir` can take this run: empty, or --overwrite, or --resume of the same run.
void check_dir(const planned_run& plan, const run_command_options& options) {
  const auto samples_path = plan.dir / kSamplesFile;
  const bool has_run =
      std::filesystem::exists(samples_path) || std::filesystem::exists(plan.dir / kRunFile);
  if (has_run && !options.resume && !options.overwrite) {
    throw input_error(fmt::format(
        "{} already holds a run; pass --resume to continue it or --overwrite to replace it",
        plan.dir.string()));
  }
  if (!has_run || !options.resume) return;
  if (!std::filesystem::exists(plan.dir / kRunFile)) {
    throw input_error(fmt::format("{}: cannot resume: no {} says which run this is",
                                  plan.dir.string(), kRunFile));
  }
  // Resuming with a smaller --limit would drop samples already paid for.
  std::set<std::string> selected;
  const std::size_t count = std::min(plan.all_items->size(), options.limit.value_or(SIZE_MAX));
  for (std::size_t i = 0; i < count; ++i)
    selected.insert((*plan.all_items)[i].id);
  std::size_t outside = 0;
  if (std::filesystem::exists(samples_path)) {
    for (const auto& r : read_samples(samples_path))
      outside += selected.count(r.id) ? 0 : 1;
  }
  if (outside > 0) {
    throw input_error(fmt::format(
        "{}: cannot resume: {} sample(s) there lie outside this run's --limit and would be "
        "dropped; raise --limit (or omit it) or use another --out",
        plan.dir.string(), outside));
  }
  const auto before = read_json_file(plan.dir / kRunFile).value("identity", nlohmann::json());
  const auto differences = identity_differences(before, plan.identity);
  if (!differences.empty()) {
    std::string lines;
    for (const auto& d : differences)
      lines += "\n  " + d;
    throw input_error(
        fmt::format("{}: cannot resume: the run there differs from this one (use another --out, or "
                    "--overwrite):{}",
                    plan.dir.string(), lines));
  }
}

// Completed samples kept from an earlier attempt at the same run (--resume). Failed samples are
// dropped so they run again.
std::map<std::string, sample_result> resumable_results(const std::filesystem::path& samples_path,
                                                       const std::vector<sample>& items) {
  std::map<std::string, sample_result> kept;
  if (!std::filesystem::exists(samples_path)) return kept;
  std::set<std::string> wanted;
  for (const auto& item : items)
    wanted.insert(item.id);
  for (auto& result : read_samples(samples_path)) {
    if (result.failure || !wanted.count(result.id)) continue;
    kept[result.id] = std::move(result);
  }
  return kept;
}

nlohmann::json aggregate_metrics(const task& evaluated, const std::vector<sample_result>& results) {
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& info : evaluated.metrics()) {
    std::vector<double> values;
    for (const auto& r : results) {
      if (r.failure) continue;
      if (auto it = r.metrics.find(info.name); it != r.metrics.end()) values.push_back(it->second);
    }
    if (values.empty()) continue;  // no sample of this kind: no number, rather than a fake 0
    auto summary = stats::summarize(values, info.binary);
    // Every metric here is a fraction; a normal interval must not promise values past 0 or 1.
    summary.ci95 = {std::max(0.0, summary.ci95.low), std::min(1.0, summary.ci95.high)};
    metrics[info.name] = stats::to_json(summary);
    metrics[info.name]["binary"] = info.binary;
  }
  return metrics;
}

nlohmann::json usage_and_latency(const std::vector<sample_result>& results) {
  token_usage usage;
  std::vector<double> latencies;
  long long attempts = 0;
  for (const auto& r : results) {
    usage += r.usage;
    attempts += r.attempts;
    if (!r.failure && r.attempts > 0) latencies.push_back(r.latency_s);
  }
  double total_latency = 0.0;
  for (double l : latencies)
    total_latency += l;
  const double mean =
      latencies.empty() ? 0.0 : total_latency / static_cast<double>(latencies.size());
  return {{"usage",
           {{"prompt_tokens", usage.prompt_tokens},
            {"completion_tokens", usage.completion_tokens},
            {"total_tokens", usage.prompt_tokens + usage.completion_tokens},
            {"http_attempts", attempts}}},
          {"latency",
           {{"requests_timed", latencies.size()},
            {"total_s", total_latency},
            {"mean_s", mean},
            {"p50_s", percentile(latencies, 0.50)},
            {"p90_s", percentile(latencies, 0.90)},
            {"p99_s", percentile(latencies, 0.99)}}}};
}

nlohmann::json failure_counts(const std::vector<sample_result>& results) {
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& r : results) {
    if (!r.failure) continue;
    const std::string code(to_string(r.failure->code));
    counts[code] = counts.value(code, 0) + 1;
  }
  return counts;
}

nlohmann::json run_context() {
  auto context = build_context();
  context["libraries"]["libcurl"] = http_client_version();
  return context;
}

// The run.json that exists while a run is in progress, so that a killed run can be resumed and
// checked against what resumes it.
nlohmann::json started_summary(const planned_run& plan, const run_command_options& options,
                               const model_backend& backend, const std::string& model_spec) {
  nlohmann::json summary;
  summary["schema_version"] = kRunSchemaVersion;
  summary["status"] = "running";
  summary["identity"] = plan.identity;
  summary["task"] = plan.evaluated->describe();
  summary["task"]["name"] = plan.task_name;
  summary["task"]["dataset_sha256"] = plan.identity["task"].value("dataset_sha256", "");
  summary["model"] = backend.describe();
  summary["model"]["spec"] = redact_spec(model_spec);
  summary["label"] = plan.label;
  summary["seed"] = options.task.seed;
  summary["options"] = {{"limit", options.limit ? nlohmann::json(*options.limit) : nullptr},
                        {"concurrency", options.concurrency},
                        {"timeout_s", options.backend.timeout_s},
                        {"max_retries", options.backend.max_retries}};
  summary["context"] = run_context();
  summary["started_at"] = utc_timestamp();
  return summary;
}

evaluated_run evaluate(const planned_run& plan, const run_command_options& options,
                       model_backend& backend) {
  const auto& all_items = *plan.all_items;
  std::vector<sample> items = all_items;
  if (options.limit && *options.limit < items.size()) items.resize(*options.limit);

  std::vector<std::string> warnings = plan.evaluated->load_warnings();
  std::vector<std::string> source_ids;
  for (const auto& item : all_items)
    source_ids.push_back(item.source_id);
  for (const auto& w : backend.coverage_warnings(source_ids))
    warnings.push_back(w);
  for (const auto& w : warnings)
    fmt::print(stderr, "warning: {}\n", w);

  std::error_code ec;
  std::filesystem::create_directories(plan.dir, ec);
  if (ec) {
    throw input_error(
        fmt::format("{}: cannot create directory: {}", plan.dir.string(), ec.message()));
  }
  const auto samples_path = plan.dir / kSamplesFile;
  if (options.overwrite) std::filesystem::remove(samples_path, ec);
  auto kept = options.resume ? resumable_results(samples_path, items)
                             : std::map<std::string, sample_result>{};
  std::vector<sample> pending;
  for (const auto& item : items) {
    if (!kept.count(item.id)) pending.push_back(item);
  }
  if (options.resume && std::filesystem::exists(samples_path)) {
    std::vector<sample_result> kept_list;
    for (const auto& item : items) {
      if (auto it = kept.find(item.id); it != kept.end()) kept_list.push_back(it->second);
    }
    rewrite_samples(samples_path, kept_list);
    fmt::print(stderr, "resuming {}: {} sample(s) already scored, {} to run\n", plan.dir.string(),
               kept.size(), pending.size());
  }

  nlohmann::json summary =
      started_summary(plan, options, backend, options.models[plan.model_index]);
  write_json_file(plan.dir / kRunFile, summary);

  const auto start = std::chrono::steady_clock::now();
  samples_writer writer(samples_path);
  progress_meter progress(fmt::format("{}|{}", plan.task_name, plan.label), pending.size(),
                          !options.quiet);
  runner_options runner;
  runner.concurrency = options.concurrency;
  runner.abort_after_failures =
      std::max(kAbortAfterFailures, 2 * static_cast<std::size_t>(options.concurrency));
  runner.stop_requested = options.stop_requested;
  runner.already_succeeded = !kept.empty();
  auto outcome = run_samples(*plan.evaluated, backend, pending, runner, progress,
                             [&](const sample_result& r) { writer.append(r); });
  progress.finish();
  const double duration =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::map<std::string, sample_result> by_id = std::move(kept);
  for (auto& r : outcome.results)
    by_id[r.id] = std::move(r);
  std::vector<sample_result> results;
  for (const auto& item : items) {
    if (auto it = by_id.find(item.id); it != by_id.end()) results.push_back(it->second);
  }

  std::size_t failed = 0;
  for (const auto& r : results)
    failed += r.failure ? 1 : 0;
  const std::size_t not_run = items.size() - results.size();
  if (not_run == 0) outcome.stopped_because.clear();
  if (failed > 0) {
    const auto first = std::find_if(results.begin(), results.end(),
                                    [](const auto& r) { return r.failure.has_value(); });
    warnings.push_back(fmt::format(
        "{} sample(s) failed and are left out of the metrics (an official scorer may count "
        "them as 0); first: id {}: {}",
        failed, first->id, first->failure->message));
    fmt::print(stderr, "warning: {}\n", warnings.back());
  }
  if (!outcome.stopped_because.empty()) {
    warnings.push_back(fmt::format("{} sample(s) not run: {}; continue with --resume", not_run,
                                   outcome.stopped_because));
    fmt::print(stderr, "warning: {}\n", warnings.back());
  }

  summary["status"] = outcome.stopped_because.empty()            ? "complete"
                      : outcome.stopped_because == "interrupted" ? "interrupted"
                                                                 : "stopped";
  summary["finished_at"] = utc_timestamp();
  summary["duration_s"] = duration;
  summary["counts"] = {{"samples", items.size()},
                       {"scored", results.size() - failed},
                       {"failed", failed},
                       {"not_run", not_run},
                       {"resumed", items.size() - pending.size()},
                       {"dataset_samples", all_items.size()}};
  summary["failures"] = failure_counts(results);
  summary["metrics"] = aggregate_metrics(*plan.evaluated, results);
  summary["primary_metric"] = plan.evaluated->metrics().front().name;
  summary.update(usage_and_latency(results));
  summary["warnings"] = warnings;
  if (auto report = plan.evaluated->report(); !report.is_null()) {
    summary["task_report"] = report;
    if (report.contains("note"))
      fmt::print(stderr, "note: {}\n", report["note"].get<std::string>());
  }
  write_json_file(plan.dir / kRunFile, summary);
  std::vector<std::string> order;
  for (const auto& info : plan.evaluated->metrics())
    order.push_back(info.name);
  return {plan.task_name, plan.label, plan.dir, summary, order};
}

// One line per task with every model's headline metric, when several models ran. Whether a
// difference is real needs paired statistics on the same items: `yardstick compare`.
void print_side_by_side(const std::vector<evaluated_run>& runs) {
  std::map<std::string, std::vector<const evaluated_run*>> by_task;
  for (const auto& run : runs)
    by_task[run.task].push_back(&run);
  for (const auto& [task_name, task_runs] : by_task) {
    if (task_runs.size() < 2) continue;
    const std::string metric = task_runs.front()->summary["primary_metric"];
    std::string line = fmt::format("{} {}:", task_name, metric);
    for (std::size_t i = 0; i < task_runs.size(); ++i) {
      const auto& metrics = task_runs[i]->summary["metrics"];
      line += fmt::format("{} {} ", i ? " |" : "", task_runs[i]->label);
      line += metrics.contains(metric)
                  ? fmt::format("{:.2f}", 100.0 * metrics[metric]["value"].get<double>())
                  : "-";
    }
    fmt::print("{}\n", line);
  }
}

void print_summary_table(const std::vector<evaluated_run>& runs) {
  std::size_t task_width = 4, label_width = 5, metric_width = 6;
  for (const auto& run : runs) {
    task_width = std::max(task_width, run.task.size());
    label_width = std::max(label_width, run.label.size());
    for (const auto& name : run.metric_order)
      metric_width = std::max(metric_width, name.size());
  }
  fmt::print("{:<{}} {:<{}} {:>6} {:>6}  {:<{}} {:>7}  {:<16} {:>6}\n", "task", task_width, "model",
             label_width, "n", "failed", "metric", metric_width, "value", "95% CI", "stderr");
  for (const auto& run : runs) {
    const auto failed = run.summary["counts"]["failed"].get<std::size_t>();
    if (run.summary["metrics"].empty()) {
      fmt::print("{:<{}} {:<{}} {:>6} {:>6}  {:<{}} {:>7}\n", run.task, task_width, run.label,
                 label_width, 0, failed, "(none)", metric_width, "-");
    }
    for (const auto& name : run.metric_order) {
      if (!run.summary["metrics"].contains(name)) continue;
      const auto& m = run.summary["metrics"][name];
      const auto ci = m["ci95"];
      fmt::print("{:<{}} {:<{}} {:>6} {:>6}  {:<{}} {:>7.2f}  [{:>6.2f}, {:>6.2f}] {:>6.2f}\n",
                 run.task, task_width, run.label, label_width, m["n"].get<std::size_t>(), failed,
                 name, metric_width, 100.0 * m["value"].get<double>(), 100.0 * ci[0].get<double>(),
                 100.0 * ci[1].get<double>(), 100.0 * m["stderr"].get<double>());
    }
  }
  for (const auto& run : runs) {
    if (const auto not_run = run.summary["counts"]["not_run"].get<std::size_t>(); not_run > 0) {
      fmt::print("{} {}: {} sample(s) not run ({}); continue with --resume\n", run.task, run.label,
                 not_run, run.summary["status"].get<std::string>());
    }
  }
  print_side_by_side(runs);
  fmt::print("(values in percent; n = samples scored; results in:");
  for (const auto& run : runs)
    fmt::print(" {}", run.dir.string());
  fmt::print(")\n");
}

nlohmann::json run_identity(const std::string& task_name, const task& evaluated,
                            const model_backend& backend, const std::string& label,
                            std::uint64_t seed) {
  nlohmann::json task_description = evaluated.describe();
  task_description["name"] = task_name;
  if (task_description.contains("dataset")) {
    // The data is identified by its bytes, not its path: a moved clone resumes.
    task_description["dataset_sha256"] =
        file_sha256(task_description["dataset"].get<std::string>());
    task_description.erase("dataset");
  }
  task_description.erase("fewshot_source");
  // A replay file may gain records between a killed run and its resume; the count is not part
  // of which model this is.
  nlohmann::json model_description = backend.describe();
  model_description.erase("records");
  return {
      {"task", task_description}, {"model", model_description}, {"label", label}, {"seed", seed}};
}

void check_options(const run_command_options& options) {
  if (options.tasks.empty()) throw input_error("--task is required");
  if (options.models.empty()) throw input_error("--model is required");
  if (!options.labels.empty() && options.labels.size() != options.models.size()) {
    throw input_error(fmt::format("{} --label value(s) for {} --model value(s); give one per model",
                                  options.labels.size(), options.models.size()));
  }
  if (options.concurrency < 1) throw input_error("--concurrency must be >= 1");
  if (options.resume && options.overwrite) throw input_error("--resume and --overwrite conflict");
  std::set<std::string> seen;
  for (const auto& name : options.tasks) {
    if (name.empty()) throw input_error("--task has an empty name");
    if (!seen.insert(name).second) throw input_error(fmt::format("--task lists '{}' twice", name));
  }
  for (const auto& label : options.labels) {
    if (label.empty()) throw input_error("--label must not be empty");
  }
}

}  // namespace

int run_command(const run_command_options& options) {
  check_options(options);
  task_registry tasks("task");
  register_tasks(tasks);
  backend_registry backends("back end");
  register_backends(backends);
  for (const auto& name : options.tasks) {
    if (!tasks.contains(name)) throw input_error(unknown_name_message("task", name, tasks.names()));
  }

  // Everything is created, read and checked before anything runs, so a typo in the second model
  // or a clash in its output folder fails fast instead of after an hour of the first.
  run_command_options resolved = options;
  if (options.judge) {
    backend_options judge_options = options.backend;
    judge_options.api_key_env = options.judge_api_key_env;
    try {
      resolved.task.judge = create_backend(backends, *options.judge, judge_options);
    } catch (const input_error& e) {
      throw input_error(fmt::format("--judge: {}", e.what()));
    }
  }
  std::vector<std::unique_ptr<model_backend>> models;
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < options.models.size(); ++i) {
    models.push_back(create_backend(backends, options.models[i], options.backend));
    labels.push_back(options.labels.empty() ? models.back()->default_label() : options.labels[i]);
  }
  std::set<std::string> folders;
  for (const auto& label : labels) {
    if (!folders.insert(folder_name(label)).second) {
      throw input_error(fmt::format(
          "two models share the label (or folder) '{}'; give --label per model", label));
    }
  }
  std::vector<planned_run> plans;
  for (const auto& task_name : options.tasks) {
    for (std::size_t i = 0; i < models.size(); ++i) {
      // One task object per model: what a task gathers while scoring (a judge's tallies) then
      // belongs to one run.
      std::shared_ptr<task> evaluated = tasks.create(task_name, resolved.task);
      auto items = std::make_shared<std::vector<sample>>(evaluated->load());
      if (items->empty()) {
        throw input_error(fmt::format("{}: no samples to evaluate in {}", task_name,
                                      evaluated->describe().value("dataset", "the dataset")));
      }
      planned_run plan{
          task_name,
          evaluated,
          items,
          i,
          labels[i],
          run_dir(options, task_name, labels[i]),
          run_identity(task_name, *evaluated, *models[i], labels[i], options.task.seed)};
      check_dir(plan, options);
      plans.push_back(std::move(plan));
    }
  }

  std::vector<evaluated_run> runs;
  for (const auto& plan : plans) {
    runs.push_back(evaluate(plan, options, *models[plan.model_index]));
    if (options.stop_requested != nullptr && options.stop_requested->load()) break;
  }
  print_summary_table(runs);
  if (options.stop_requested != nullptr && options.stop_requested->load()) return kExitInterrupted;
  const bool all_scored = std::all_of(runs.begin(), runs.end(), [](const evaluated_run& r) {
    return r.summary["counts"]["failed"].get<std::size_t>() == 0 &&
           r.summary["counts"]["not_run"].get<std::size_t>() == 0;
  });
  return all_scored ? kExitOk : kExitSomeFailed;
}

}  // namespace ys
