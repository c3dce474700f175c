#include "reports/compare.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "harness/run_files.h"

namespace ys::reports {

namespace {

// Task settings that may differ between two runs being compared: how answers were sampled,
// not what was asked.
const std::set<std::string> kComparableDifferences = {"max_tokens", "temperature", "dataset",
                                                      "fewshot_source"};

// Ids in dataset order when they are line numbers ("9" before "10"), else as text.
bool natural_less(const std::string& x, const std::string& y) {
  const bool digits_x = !x.empty() && x.find_first_not_of("0123456789") == std::string::npos;
  const bool digits_y = !y.empty() && y.find_first_not_of("0123456789") == std::string::npos;
  if (digits_x && digits_y && x.size() != y.size()) return x.size() < y.size();
  return x < y;
}

std::string first_or_empty(const std::vector<std::string>& values) {
  return values.empty() ? std::string() : values.front();
}

std::string gold_text(const nlohmann::json& gold) {
  return gold.is_string() ? gold.get<std::string>() : gold.dump();
}

void check_comparable(const loaded_run& a, const loaded_run& b) {
  nlohmann::json task_a = a.summary.value("task", nlohmann::json::object());
  nlohmann::json task_b = b.summary.value("task", nlohmann::json::object());
  for (const auto& key : kComparableDifferences) {
    task_a.erase(key);
    task_b.erase(key);
  }
  if (task_a == task_b) return;
  std::string lines;
  for (const auto& op : nlohmann::json::diff(task_a, task_b)) {
    const auto pointer = nlohmann::json::json_pointer(op.value("path", ""));
    lines += fmt::format("\n  task{}: {} -> {}", op.value("path", ""),
                         task_a.contains(pointer) ? task_a[pointer].dump() : "(none)",
                         task_b.contains(pointer) ? task_b[pointer].dump() : "(none)");
  }
  throw input_error(
      fmt::format("{} and {} are not the same evaluation (task, dataset, prompt or "
                  "scorer differ):{}",
                  a.dir.string(), b.dir.string(), lines));
}

std::vector<std::string> metric_names(const loaded_run& a, const loaded_run& b,
                                      const compare_options& options) {
  const auto& metrics_a = a.summary.value("metrics", nlohmann::json::object());
  const auto& metrics_b = b.summary.value("metrics", nlohmann::json::object());
  if (options.metric) {
    if (!metrics_a.contains(*options.metric) || !metrics_b.contains(*options.metric)) {
      std::vector<std::string> known;
      for (const auto& [name, m] : metrics_a.items())
        known.push_back(name);
      throw input_error(fmt::format("metric '{}' is not in both runs (known: {})", *options.metric,
                                    fmt::join(known, ", ")));
    }
    return {*options.metric};
  }
  std::vector<std::string> names;
  const std::string primary = a.summary.value("primary_metric", "");
  if (metrics_a.contains(primary) && metrics_b.contains(primary)) names.push_back(primary);
  for (const auto& [name, m] : metrics_a.items()) {
    if (name != primary && metrics_b.contains(name)) names.push_back(name);
  }
  return names;
}

// Whether `path` holds a profile (`yardstick profile --format json`): JSON with a batch sweep.
bool looks_like_profile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  const auto document = nlohmann::json::parse(in, nullptr, false);
  return document.is_object() && document.contains("batch_sweep");
}

}  // namespace

loaded_run load_run(const std::filesystem::path& path) {
  loaded_run run;
  run.dir = path.filename() == kRunFile ? path.parent_path() : path;
  if (run.dir.empty()) run.dir = ".";
  if (std::error_code ec; run.dir == path && std::filesystem::is_regular_file(path, ec)) {
    std::string message = fmt::format("{} is a file, not a run directory", path.string());
    if (looks_like_profile(path)) {
      message +=
          fmt::format("; to chart a profile use yardstick report --profile {}", path.string());
    }
    throw input_error(message);
  }
  run.summary = read_json_file(run.dir / kRunFile);
  const std::string status = run.summary.value("status", "complete");
  if (status != "complete") {
    throw input_error(fmt::format(
        "{}: the run is not complete (status '{}'); finish it with yardstick run --resume",
        (run.dir / kRunFile).string(), status));
  }
  run.samples = read_samples(run.dir / kSamplesFile);
  return run;
}

comparison compare_runs(const loaded_run& a, const loaded_run& b, const compare_options& options) {
  check_comparable(a, b);
  comparison out;
  out.task = a.summary["task"].value("name", "");
  out.label_a = a.summary.value("label", a.dir.filename().string());
  out.label_b = b.summary.value("label", b.dir.filename().string());
  out.primary_metric = a.summary.value("primary_metric", "");

  std::map<std::string, const sample_result*> by_id_b;
  for (const auto& s : b.samples)
    by_id_b[s.id] = &s;
  std::vector<std::pair<const sample_result*, const sample_result*>> pairs;
  std::set<std::string> seen;
  for (const auto& s : a.samples) {
    seen.insert(s.id);
    const auto it = by_id_b.find(s.id);
    if (it == by_id_b.end() || s.failure || it->second->failure) {
      ++out.unpaired;
      continue;
    }
    pairs.emplace_back(&s, it->second);
  }
  for (const auto& s : b.samples)
    out.unpaired += seen.count(s.id) ? 0 : 1;
  out.paired = pairs.size();
  if (pairs.empty()) {
    throw input_error(
        fmt::format("{} and {} share no scored sample id", a.dir.string(), b.dir.string()));
  }

  for (const auto& name : metric_names(a, b, options)) {
    metric_comparison m;
    m.metric = name;
    m.binary = a.summary["metrics"][name].value("binary", false);
    std::vector<double> values_a, values_b;
    std::vector<std::pair<const sample_result*, const sample_result*>> used;
    for (const auto& [sa, sb] : pairs) {
      const auto ia = sa->metrics.find(name);
      const auto ib = sb->metrics.find(name);
      if (ia == sa->metrics.end() || ib == sb->metrics.end()) continue;
      values_a.push_back(ia->second);
      values_b.push_back(ib->second);
      used.emplace_back(sa, sb);
    }
    if (values_a.empty()) continue;
    m.difference = stats::paired_bootstrap(values_a, values_b, options.resamples, options.seed);
    m.minimum_detectable_effect = stats::minimum_detectable_effect(values_a, values_b);
    if (m.binary) {
      const auto mcnemar = stats::mcnemar_exact(values_a, values_b);
      m.test = "mcnemar_exact";
      m.p_value = mcnemar.p_value;
      m.a_only = mcnemar.a_only;
      m.b_only = mcnemar.b_only;
      for (std::size_t i = 0; i < used.size(); ++i) {
        const bool right_a = values_a[i] > 0.5, right_b = values_b[i] > 0.5;
        if (right_a == right_b) continue;
        flipped_item item{used[i].first->id, first_or_empty(used[i].first->extracted),
                          first_or_empty(used[i].second->extracted),
                          gold_text(used[i].first->gold)};
        (right_a ? m.right_to_wrong : m.wrong_to_right).push_back(std::move(item));
      }
    } else {
      m.test = "sign_flip";
      m.p_value = stats::sign_flip_p_value(values_a, values_b, options.resamples, options.seed);
    }
    auto by_id = [](const flipped_item& x, const flipped_item& y) {
      return natural_less(x.id, y.id);
    };
    std::sort(m.right_to_wrong.begin(), m.right_to_wrong.end(), by_id);
    std::sort(m.wrong_to_right.begin(), m.wrong_to_right.end(), by_id);
    out.metrics.push_back(std::move(m));
  }
  return out;
}

nlohmann::json to_json(const comparison& c) {
  nlohmann::json metrics = nlohmann::json::array();
  for (const auto& m : c.metrics) {
    auto flips = [](const std::vector<flipped_item>& items) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& f : items) {
        list.push_back(
            {{"id", f.id}, {"answer_a", f.answer_a}, {"answer_b", f.answer_b}, {"gold", f.gold}});
      }
      return list;
    };
    nlohmann::json j{
        {"metric", m.metric},
        {"binary", m.binary},
        {"n", m.difference.n},
        {"value_a", m.difference.mean_a},
        {"value_b", m.difference.mean_b},
        {"difference", m.difference.difference},
        {"ci95", {m.difference.ci95.low, m.difference.ci95.high}},
        {"bootstrap", {{"resamples", m.difference.resamples}, {"seed", m.difference.seed}}},
        {"test", m.test},
        {"p_value", m.p_value},
        {"minimum_detectable_effect", m.minimum_detectable_effect > 0
                                          ? nlohmann::json(m.minimum_detectable_effect)
                                          : nlohmann::json()}};
    if (m.binary) {
      j["right_to_wrong"] = flips(m.right_to_wrong);
      j["wrong_to_right"] = flips(m.wrong_to_right);
    }
    metrics.push_back(std::move(j));
  }
  return {{"schema_version", 1},
          {"task", c.task},
          {"a", c.label_a},
          {"b", c.label_b},
          {"primary_metric", c.primary_metric},
          {"paired", c.paired},
          {"unpaired", c.unpaired},
          {"metrics", metrics}};
}

namespace {

std::string points(double fraction) {
  return fmt::format("{:+.2f}", 100.0 * fraction);
}

// With no paired difference at all the spread is 0 and the formula says nothing: "n/a".
std::string mde_text(const metric_comparison& m) {
  return m.minimum_detectable_effect > 0
             ? fmt::format("{:.2f}", 100.0 * m.minimum_detectable_effect)
             : std::string("n/a");
}

std::string verdict_word(const metric_comparison& m) {
  if (m.p_value >= 0.05) return "no significant difference";
  const bool up = m.difference.difference > 0;
  return up != lower_is_better(m.metric) ? "B better" : "B worse";
}

}  // namespace

std::string render_comparison_text(const comparison& c) {
  std::string out = fmt::format("{}: A = {}, B = {}; {} paired items ({} unpaired)\n", c.task,
                                c.label_a, c.label_b, c.paired, c.unpaired);
  std::size_t width = 6;
  for (const auto& m : c.metrics)
    width = std::max(width, m.metric.size());
  out += fmt::format("{:<{}} {:>7} {:>7} {:>7}  {:<17} {:>9}  {:>6}  {}\n", "metric", width, "A",
                     "B", "B-A", "95% CI (B-A)", "p", "MDE", "verdict");
  for (const auto& m : c.metrics) {
    out += fmt::format("{:<{}} {:>7.2f} {:>7.2f} {:>7}  [{:>6}, {:>6}] {:>9.3g}  {:>6}  {}\n",
                       m.metric, width, 100.0 * m.difference.mean_a, 100.0 * m.difference.mean_b,
                       points(m.difference.difference), points(m.difference.ci95.low),
                       points(m.difference.ci95.high), m.p_value, mde_text(m), verdict_word(m));
  }
  for (const auto& m : c.metrics) {
    if (!m.binary || m.metric != c.primary_metric) continue;
    out += fmt::format(
        "\n{}: {} item(s) right in A only (right -> wrong), {} right in B only (wrong -> right); "
        "exact McNemar p = {:.3g}\n",
        m.metric, m.a_only, m.b_only, m.p_value);
    auto list = [&](const char* title, const std::vector<flipped_item>& items) {
      if (items.empty()) return;
      out += fmt::format("{} (id: A's answer / B's answer / gold):\n", title);
      for (std::size_t i = 0; i < std::min<std::size_t>(items.size(), 10); ++i) {
        out += fmt::format("  {}: {} / {} / {}\n", items[i].id, items[i].answer_a,
                           items[i].answer_b, items[i].gold);
      }
      if (items.size() > 10)
        out += fmt::format("  ... {} more (--format json lists all)\n", items.size() - 10);
    };
    list("right -> wrong", m.right_to_wrong);
    list("wrong -> right", m.wrong_to_right);
  }
  out +=
      "(values in percent points; CI: paired bootstrap over items; p: exact McNemar for 0/1 "
      "metrics, paired sign-flip test otherwise; MDE: smallest difference detectable with 80% "
      "power at 5%)\n";
  return out;
}

std::string render_comparison_markdown(const comparison& c) {
  std::string out = fmt::format("**{}**: A = `{}`, B = `{}`, {} paired items\n\n", c.task,
                                c.label_a, c.label_b, c.paired);
  out += "| metric | A | B | B − A | 95% CI | p | MDE | verdict |\n";
  out += "| --- | ---: | ---: | ---: | --- | ---: | ---: | --- |\n";
  for (const auto& m : c.metrics) {
    out += fmt::format("| {} | {:.2f} | {:.2f} | {} | [{}, {}] | {:.3g} | {} | {} |\n", m.metric,
                       100.0 * m.difference.mean_a, 100.0 * m.difference.mean_b,
                       points(m.difference.difference), points(m.difference.ci95.low),
                       points(m.difference.ci95.high), m.p_value, mde_text(m), verdict_word(m));
  }
  for (const auto& m : c.metrics) {
    if (m.binary && m.metric == c.primary_metric) {
      out += fmt::format("\n{} flipped right → wrong, {} wrong → right (McNemar p = {:.3g}).\n",
                         m.a_only, m.b_only, m.p_value);
    }
  }
  return out;
}

gate_verdict judge_gate(const comparison& c, double max_drop_points, bool strict) {
  gate_verdict v;
  const auto it = std::find_if(c.metrics.begin(), c.metrics.end(),
                               [&](const auto& m) { return m.metric == c.primary_metric; });
  const metric_comparison& m = it != c.metrics.end() ? *it : c.metrics.front();
  v.metric = m.metric;
  const double threshold = -max_drop_points / 100.0;
  if (lower_is_better(m.metric)) {  // a rise is the regression: judge the mirrored interval
    v.regression =
        strict ? -m.difference.difference < threshold : -m.difference.ci95.low < threshold;
  } else {
    v.regression =
        strict ? m.difference.difference < threshold : m.difference.ci95.high < threshold;
  }
  v.explanation = fmt::format(
      "{} {}: baseline {} {:.2f}, current {} {:.2f}, difference {} points (95% CI [{}, {}], "
      "{} paired items, p = {:.3g}). Allowed drop: {:.2f} points, judged on the {}. Verdict: {}.",
      c.task, m.metric, c.label_a, 100.0 * m.difference.mean_a, c.label_b,
      100.0 * m.difference.mean_b, points(m.difference.difference), points(m.difference.ci95.low),
      points(m.difference.ci95.high), m.difference.n, m.p_value, max_drop_points,
      strict ? "point estimate (--strict)" : "whole confidence interval",
      v.regression ? "REGRESSION" : "no regression");
  return v;
}

bool lower_is_better(std::string_view metric) {
  return metric == "invalid" || metric == "nonstandard_markers";
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;  // &apos; is not HTML 4; &#39; is valid everywhere
      case '\t':
      case '\n':
      case '\r':
        out += c;
        break;
      default:
        // Other control characters are invalid in XML 1.0 and HTML; U+FFFD shows where one was.
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += "\uFFFD";
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string render_junit(const comparison& c, const gate_verdict& verdict) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuite name=\"yardstick gate\" tests=\"1\" failures=\"{}\">\n",
                     verdict.regression ? 1 : 0);
  out += fmt::format("  <testcase classname=\"yardstick.{}\" name=\"{}\">\n", xml_escape(c.task),
                     xml_escape(verdict.metric));
  if (verdict.regression) {
    out += fmt::format("    <failure message=\"regression\">{}</failure>\n",
                       xml_escape(verdict.explanation));
  } else {
    out += fmt::format("    <system-out>{}</system-out>\n", xml_escape(verdict.explanation));
  }
  out += "  </testcase>\n</testsuite>\n";
  return out;
}

}  // namespace ys::reports
