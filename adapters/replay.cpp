#include "adapters/replay.h"

#include "harness/run_files.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace ys {

namespace {

struct replay_record {
  std::vector<std::string> completions;
  nlohmann::json spans;  // a structured answer given instead of (or beside) text; null if none
  std::size_t line = 0;
};

nlohmann::json record_spans(const nlohmann::json& record, const std::string& file,
                            std::size_t line) {
  const auto it = record.find("spans");
  if (it == record.end()) return nullptr;
  if (!it->is_array()) throw input_error(file, line, "spans", "must be an array of strings");
  for (const auto& span : *it) {
    if (!span.is_string()) throw input_error(file, line, "spans", "must hold strings only");
  }
  return *it;
}

std::string record_id(const nlohmann::json& record, const std::string& file, std::size_t line) {
  // DROP prediction files key records by `query_id`; everything else uses `id`.
  const char* field = record.contains("id") || !record.contains("query_id") ? "id" : "query_id";
  const auto it = record.find(field);
  if (it == record.end()) throw input_error(file, line, "id", "missing");
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<long long>());
  throw input_error(file, line, field, "must be an integer or a string");
}

std::vector<std::string> record_completions(const nlohmann::json& record, const std::string& file,
                                            std::size_t line) {
  if (const auto it = record.find("completions"); it != record.end()) {
    if (!it->is_array())
      throw input_error(file, line, "completions", "must be an array of strings");
    std::vector<std::string> texts;
    for (const auto& text : *it) {
      if (!text.is_string()) throw input_error(file, line, "completions", "must hold strings only");
      texts.push_back(text.get<std::string>());
    }
    if (!texts.empty()) return texts;
    if (!record.contains("completion") && !record.contains("spans")) {
      throw input_error(file, line, "completions", "is empty");
    }
  }
  if (const auto it = record.find("completion"); it != record.end()) {
    if (!it->is_string()) throw input_error(file, line, "completion", "must be a string");
    return {it->get<std::string>()};
  }
  if (const auto spans = record_spans(record, file, line); !spans.is_null()) {
    std::string joined;  // the text people read in samples.jsonl; `spans` is what is scored
    for (const auto& span : spans)
      joined += (joined.empty() ? "" : " | ") + span.get<std::string>();
    return {joined};
  }
  throw input_error(file, line, "completion",
                    "missing (need 'completion', 'completions' or 'spans')");
}

class replay_backend final : public model_backend {
 public:
  explicit replay_backend(std::string path) : path_(std::move(path)) { load(); }

  response generate(const request& req) override {
    response reply;
    const auto it = records_.find(req.source_id);
    if (it == records_.end()) {
      reply.failure = error{error_code::not_found, fmt::format("no replay record for id '{}' in {}",
                                                               req.source_id, path_)};
      return reply;
    }
    const auto& texts = it->second.completions;
    const auto wanted = static_cast<std::size_t>(std::max(1, req.params.n));
    if (texts.size() < wanted) {
      reply.failure =
          error{error_code::not_found,
                fmt::format("{}:{}: record '{}' has {} completion(s), {} requested", path_,
                            it->second.line, req.source_id, texts.size(), wanted)};
      return reply;
    }
    reply.texts.assign(texts.begin(), texts.begin() + static_cast<std::ptrdiff_t>(wanted));
    reply.finish_reasons.assign(wanted, "replay");
    if (!it->second.spans.is_null()) reply.structured = {{"spans", it->second.spans}};
    return reply;
  }

  nlohmann::json describe() const override {
    return {
        {"backend", "replay"},
        {"path", path_},
        {"records", records_.size()},
        {"note", "recorded generations: the task's prompt settings were not used to make them"}};
  }

  std::string default_label() const override {
    std::string name = std::filesystem::path(path_).filename().string();
    if (name.size() > 6 && name.ends_with(".jsonl")) name.resize(name.size() - 6);
    return name;
  }

  std::vector<std::string> coverage_warnings(const std::vector<std::string>& dataset_ids) override {
    if (records_.empty()) return {fmt::format("{}: the replay file holds no records", path_)};
    const std::unordered_set<std::string> known(dataset_ids.begin(), dataset_ids.end());
    std::vector<std::string> unmatched;
    for (const auto& [id, record] : records_) {
      if (!known.count(id)) unmatched.push_back(id);
    }
    if (unmatched.empty()) return {};
    std::sort(unmatched.begin(), unmatched.end());
    std::string examples;
    for (std::size_t i = 0; i < std::min<std::size_t>(5, unmatched.size()); ++i) {
      examples += (i ? ", " : "") + unmatched[i];
    }
    return {fmt::format("{}: {} record(s) match no sample in the dataset (ids: {}{})", path_,
                        unmatched.size(), examples, unmatched.size() > 5 ? ", ..." : "")};
  }

 private:
  void load() {
    std::ifstream in(path_, std::ios::binary);
    if (!in) {
      throw input_error(
          fmt::format("{}: cannot open replay file: {}", path_, std::strerror(errno)));
    }
    std::string line;
    std::size_t line_number = 0;
    while (std::getline(in, line)) {
      ++line_number;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      auto record = nlohmann::json::parse(line, nullptr, false);
      if (record.is_discarded() || !record.is_object()) {
        throw input_error(path_, line_number, "", "not a JSON object");
      }
      std::string id = record_id(record, path_, line_number);
      auto texts = record_completions(record, path_, line_number);
      auto spans = record_spans(record, path_, line_number);
      const auto it = records_.find(id);
      if (it == records_.end()) {
        records_.emplace(id, replay_record{std::move(texts), std::move(spans), line_number});
        continue;
      }
      // A file written by walking a dataset that repeats an id (DROP's dev set) repeats the
      // record too; that is harmless when both say the same. Two different answers are not.
      if (it->second.completions != texts || it->second.spans != spans) {
        throw input_error(path_, line_number, record.contains("id") ? "id" : "query_id",
                          fmt::format("'{}' repeats the record on line {} with a different answer",
                                      id, it->second.line));
      }
    }
  }

  std::string path_;
  std::unordered_map<std::string, replay_record> records_;
};

}  // namespace

std::unique_ptr<model_backend> make_replay_backend(const std::string& path,
                                                   const backend_options& options) {
  (void)options;
  if (path.empty()) throw input_error("replay spec needs a file: replay:FILE.jsonl");
  return std::make_unique<replay_backend>(path);
}

}  // namespace ys
