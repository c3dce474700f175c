// The files of one run directory: samples.jsonl (one line per sample, appended and flushed as
// each completes, so a killed run can resume) and run.json (the summary, written atomically).
#pragma once

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/types.h"

namespace ys {

inline constexpr int kRunSchemaVersion = 1;
inline constexpr const char* kSamplesFile = "samples.jsonl";
inline constexpr const char* kRunFile = "run.json";

class samples_writer {
 public:
  // Opens `path` for appending (creating it). Throws input_error when it cannot.
  explicit samples_writer(const std::filesystem::path& path);
  ~samples_writer();
  samples_writer(const samples_writer&) = delete;
  samples_writer& operator=(const samples_writer&) = delete;

  // Thread-safe; each line is flushed before returning.
  void append(const sample_result& result);

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::mutex mutex_;
};

// Reads a samples.jsonl. A truncated last line (a run killed mid-write) is ignored; any other bad
// line throws input_error naming the file and line.
std::vector<sample_result> read_samples(const std::filesystem::path& path);

// Rewrites a samples.jsonl with exactly `results` (used by --resume to drop failed samples).
void rewrite_samples(const std::filesystem::path& path, const std::vector<sample_result>& results);

// Writes JSON to `path` via a temporary file and rename, so readers never see half a file.
void write_json_file(const std::filesystem::path& path, const nlohmann::json& value);

// The SHA-256 of a file's bytes as hex, or "" when it cannot be read (a dataset given by a path
// that no longer exists is not this function's error to report).
std::string file_sha256(const std::filesystem::path& path);

// The SHA-256 of `text` as hex.
std::string text_sha256(std::string_view text);

// The whole file as text; throws input_error naming the file and why ("is a directory", the OS
// reason) when it cannot be read. `what` names the file's role ("DROP file").
std::string read_text_file(const std::filesystem::path& path, std::string_view what);

// The 1-based line holding byte `offset` of `text` (offsets past the end give the last line).
std::size_t line_at(const std::string& text, std::size_t offset);

// Parses a JSON document; a syntax error becomes an input_error naming the file and line.
template <class json_type = nlohmann::json>
json_type parse_json_text(const std::string& text, const std::string& file) {
  try {
    return json_type::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw input_error(file, line_at(text, e.byte), "",
                      std::string("not valid JSON (") + e.what() + ")");
  }
}

// Reads a JSON file; throws input_error naming the file on failure.
nlohmann::json read_json_file(const std::filesystem::path& path);

}  // namespace ys
