#include "cli/run_command.h"

#include <algorithm>
#include <chrono>
#include <map>

#include <fmt/format.h>

#include "adapters/register.h"
#include "harness/build_info.h"
#include "harness/progress.h"
#include "harness/run_files.h"
#include "harness/runner.h"
#include "scorers/stats.h"
#include "tasks/register.h"

namespace ys {

namespace {

struct evaluated_run {
  std::string task;
  std::string label;
  std::filesystem::path dir;
  nlohmann::json summary;
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string redact_query(const std::string& query) {
  std::string out;
  std::size_t start = 0;
  while (start <= query.size()) {
    auto end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    std::string pair = query.substr(start, end - start);
    const std::string key = lower(pair.substr(0, pair.find('=')));
    for (const char* secret : {"key", "token", "secret", "password", "auth", "sig"}) {
      if (key.find(secret) != std::string::npos) {
        pair = pair.substr(0, pair.find('=')) + "=REDACTED";
        break;
      }
    }
    out += (out.empty() ? "" : "&") + pair;
    start = end + 1;
  }
  return out;
}

double percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const auto index =
      static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

// Where a (task, model) pair writes: subfolders only for the dimensions that vary.
std::filesystem::path run_dir(const run_command_options& options, const std::string& task_name,
                              const std::string& label) {
  auto dir = options.out;
  if (options.models.size() > 1) dir /= label;
  if (options.tasks.size() > 1) dir /= task_name;
  return dir;
}

// Completed samples kept from an earlier attempt at the same run (--resume). Failed samples and
// samples whose prompt changed are dropped so they run again.
std::map<std::string, sample_result> resumable_results(const std::filesystem::path& samples_path,
                                                       const task& evaluated,
                                                       const std::vector<sample>& items) {
  std::map<std::string, sample_result> kept;
  if (!std::filesystem::exists(samples_path)) return kept;
  std::map<std::string, const sample*> by_id;
  for (const auto& item : items)
    by_id[item.id] = &item;
  for (auto& result : read_samples(samples_path)) {
    if (result.failure) continue;
    const auto it = by_id.find(result.id);
    if (it == by_id.end()) continue;
    if (evaluated.build_request(*it->second).content_hash() != result.prompt_hash) continue;
    kept[result.id] = std::move(result);
  }
  return kept;
}

void prepare_dir(const std::filesystem::path& dir, const run_command_options& options) {
  const auto samples_path = dir / kSamplesFile;
  if (std::filesystem::exists(samples_path) && !options.resume && !options.overwrite) {
    throw input_error(fmt::format(
        "{} already holds a run; pass --resume to continue it or --overwrite to replace it",
        dir.string()));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw input_error(fmt::format("{}: cannot create directory: {}", dir.string(), ec.message()));
  if (options.overwrite) {
    std::filesystem::remove(samples_path, ec);
    std::filesystem::remove(dir / kRunFile, ec);
  }
}

nlohmann::json aggregate_metrics(const task& evaluated, const std::vector<sample_result>& results) {
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& info : evaluated.metrics()) {
    std::vector<double> values;
    for (const auto& r : results) {
      if (r.failure) continue;
      if (auto it = r.metrics.find(info.name); it != r.metrics.end()) values.push_back(it->second);
    }
    metrics[info.name] = stats::to_json(stats::summarize(values, info.binary));
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
  return {
      {"usage",
       {{"prompt_tokens", usage.prompt_tokens},
        {"completion_tokens", usage.completion_tokens},
        {"total_tokens", usage.prompt_tokens + usage.completion_tokens},
        {"http_attempts", attempts}}},
      {"latency",
       {{"requests_timed", latencies.size()},
        {"total_s", total_latency},
        {"mean_s", latencies.empty() ? 0.0 : total_latency / static_cast<double>(latencies.size())},
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

evaluated_run evaluate_pair(const run_command_options& options, const task_registry& tasks,
                            const std::string& task_name, const std::string& model_spec,
                            model_backend& backend, const std::string& label) {
  auto evaluated = tasks.create(task_name, options.task);
  const auto all_items = evaluated->load();
  std::vector<std::string> all_ids;
  for (const auto& item : all_items)
    all_ids.push_back(item.id);
  std::vector<sample> items = all_items;
  if (options.limit && *options.limit < items.size()) items.resize(*options.limit);

  std::vector<std::string> warnings = backend.coverage_warnings(all_ids);
  for (const auto& w : warnings)
    fmt::print(stderr, "warning: {}\n", w);

  const auto dir = run_dir(options, task_name, label);
  prepare_dir(dir, options);
  const auto samples_path = dir / kSamplesFile;
  auto kept = options.resume ? resumable_results(samples_path, *evaluated, items)
                             : std::map<std::string, sample_result>{};
  std::vector<sample> pending;
  for (const auto& item : items) {
    if (!kept.count(item.id)) pending.push_back(item);
  }
  if (options.resume) {
    std::vector<sample_result> kept_list;
    for (const auto& item : items) {
      if (auto it = kept.find(item.id); it != kept.end()) kept_list.push_back(it->second);
    }
    if (std::filesystem::exists(samples_path)) rewrite_samples(samples_path, kept_list);
    if (!kept.empty()) {
      fmt::print(stderr, "resuming {}: {} sample(s) already scored, {} to run\n", dir.string(),
                 kept.size(), pending.size());
    }
  }

  const std::string started_at = utc_timestamp();
  const auto start = std::chrono::steady_clock::now();
  samples_writer writer(samples_path);
  progress_meter progress(fmt::format("{}|{}", task_name, label), pending.size(), !options.quiet);
  auto fresh = run_samples(*evaluated, backend, pending, runner_options{options.concurrency},
                           progress, [&](const sample_result& r) { writer.append(r); });
  progress.finish();
  const double duration =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::map<std::string, sample_result> by_id = std::move(kept);
  for (auto& r : fresh)
    by_id[r.id] = std::move(r);
  std::vector<sample_result> results;
  for (const auto& item : items)
    results.push_back(by_id.at(item.id));

  std::size_t failed = 0;
  for (const auto& r : results)
    failed += r.failure ? 1 : 0;
  if (failed > 0) {
    const auto first = std::find_if(results.begin(), results.end(),
                                    [](const auto& r) { return r.failure.has_value(); });
    warnings.push_back(fmt::format("{} sample(s) failed; first: id {}: {}", failed, first->id,
                                   first->failure->message));
    fmt::print(stderr, "warning: {}\n", warnings.back());
  }

  nlohmann::json summary;
  summary["schema_version"] = kRunSchemaVersion;
  summary["task"] = evaluated->describe();
  summary["task"]["name"] = task_name;
  summary["model"] = backend.describe();
  summary["model"]["spec"] = redact_spec(model_spec);
  summary["label"] = label;
  summary["seed"] = options.task.seed;
  summary["options"] = {{"limit", options.limit ? nlohmann::json(*options.limit) : nullptr},
                        {"concurrency", options.concurrency},
                        {"timeout_s", options.backend.timeout_s},
                        {"max_retries", options.backend.max_retries}};
  summary["context"] = build_context();
  summary["started_at"] = started_at;
  summary["finished_at"] = utc_timestamp();
  summary["duration_s"] = duration;
  summary["counts"] = {{"samples", results.size()},
                       {"scored", results.size() - failed},
                       {"failed", failed},
                       {"resumed", results.size() - pending.size()},
                       {"dataset_samples", all_items.size()}};
  summary["failures"] = failure_counts(results);
  summary["metrics"] = aggregate_metrics(*evaluated, results);
  summary["primary_metric"] = evaluated->metrics().front().name;
  summary.update(usage_and_latency(results));
  summary["warnings"] = warnings;
  write_json_file(dir / kRunFile, summary);
  return {task_name, label, dir, summary};
}

// One line per task with every model's headline metric, when several models ran. Whether a
// difference is real needs paired statistics on the same items: `yardstick compare` (planned).
void print_side_by_side(const std::vector<evaluated_run>& runs) {
  std::map<std::string, std::vector<const evaluated_run*>> by_task;
  for (const auto& run : runs) by_task[run.task].push_back(&run);
  for (const auto& [task_name, task_runs] : by_task) {
    if (task_runs.size() < 2) continue;
    const std::string metric = task_runs.front()->summary["primary_metric"];
    std::string line = fmt::format("{} {}:", task_name, metric);
    for (std::size_t i = 0; i < task_runs.size(); ++i) {
      const auto& m = task_runs[i]->summary["metrics"][metric];
      line += fmt::format("{} {} {:.2f}", i ? " |" : "", task_runs[i]->label,
                          100.0 * m["value"].get<double>());
    }
    fmt::print("{}\n", line);
  }
}

void print_summary_table(const std::vector<evaluated_run>& runs) {
  std::size_t label_width = 5;
  for (const auto& run : runs)
    label_width = std::max(label_width, run.label.size());
  fmt::print("{:<8} {:<{}} {:>6} {:>6}  {:<12} {:>7}  {:<15} {:>6}\n", "task", "model", label_width,
             "n", "failed", "metric", "value", "95% CI", "stderr");
  for (const auto& run : runs) {
    const auto& counts = run.summary["counts"];
    for (const auto& [name, m] : run.summary["metrics"].items()) {
      const auto ci = m["ci95"];
      fmt::print("{:<8} {:<{}} {:>6} {:>6}  {:<12} {:>7.2f}  [{:>5.2f}, {:>5.2f}] {:>6.2f}\n",
                 run.task, run.label, label_width, counts["samples"].get<std::size_t>(),
                 counts["failed"].get<std::size_t>(), name, 100.0 * m["value"].get<double>(),
                 100.0 * ci[0].get<double>(), 100.0 * ci[1].get<double>(),
                 100.0 * m["stderr"].get<double>());
    }
  }
  print_side_by_side(runs);
  fmt::print("(values in percent; results in:");
  for (const auto& run : runs)
    fmt::print(" {}", run.dir.string());
  fmt::print(")\n");
}

}  // namespace

std::string redact_spec(const std::string& spec) {
  std::string out = spec;
  // userinfo: scheme://user:pass@host -> scheme://host
  if (const auto scheme_end = out.find("://"); scheme_end != std::string::npos) {
    const auto host_start = scheme_end + 3;
    const auto host_end = out.find_first_of("/#?", host_start);
    const auto at = out.rfind('@', host_end == std::string::npos ? out.size() : host_end);
    if (at != std::string::npos && at >= host_start) out.erase(host_start, at + 1 - host_start);
  }
  if (const auto query = out.find('?'); query != std::string::npos) {
    const auto fragment = out.find('#', query);
    const auto end = fragment == std::string::npos ? out.size() : fragment;
    out = out.substr(0, query + 1) + redact_query(out.substr(query + 1, end - query - 1)) +
          out.substr(end);
  }
  return out;
}

int run_command(const run_command_options& options) {
  if (options.tasks.empty()) throw input_error("--task is required");
  if (options.models.empty()) throw input_error("--model is required");
  if (!options.labels.empty() && options.labels.size() != options.models.size()) {
    throw input_error(fmt::format("{} --label value(s) for {} --model value(s); give one per model",
                                  options.labels.size(), options.models.size()));
  }
  if (options.concurrency < 1) throw input_error("--concurrency must be >= 1");
  if (options.resume && options.overwrite) throw input_error("--resume and --overwrite conflict");

  task_registry tasks("task");
  register_tasks(tasks);
  backend_registry backends("back end");
  register_backends(backends);
  for (const auto& name : options.tasks) {
    if (!tasks.contains(name)) throw input_error(unknown_name_message("task", name, tasks.names()));
  }

  // Every back end is created (and every replay file read) before anything runs, so a typo in
  // the second model fails fast instead of after an hour of the first.
  std::vector<std::unique_ptr<model_backend>> models;
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < options.models.size(); ++i) {
    models.push_back(create_backend(backends, options.models[i], options.backend));
    labels.push_back(options.labels.empty() ? models.back()->default_label() : options.labels[i]);
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (labels[i] == labels[j]) {
        throw input_error(
            fmt::format("two models share the label '{}'; give --label per model", labels[i]));
      }
    }
  }

  std::vector<evaluated_run> runs;
  for (const auto& task_name : options.tasks) {
    for (std::size_t i = 0; i < models.size(); ++i) {
      runs.push_back(
          evaluate_pair(options, tasks, task_name, options.models[i], *models[i], labels[i]));
    }
  }
  print_summary_table(runs);
  const bool any_failed = std::any_of(runs.begin(), runs.end(), [](const evaluated_run& r) {
    return r.summary["counts"]["failed"].get<std::size_t>() > 0;
  });
  return any_failed ? kExitSomeFailed : kExitOk;
}

}  // namespace ys
