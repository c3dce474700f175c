// `yardstick run`: evaluate one or more tasks with one or more models.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "harness/backend_options.h"
#include "harness/redact.h"
#include "harness/task.h"

namespace ys {

// Exit codes, documented in --help and the README.
inline constexpr int kExitOk = 0;             // every sample was scored
inline constexpr int kExitSomeFailed = 1;     // some samples failed or did not run (see run.json)
inline constexpr int kExitUnusableInput = 2;  // bad options or input; nothing was evaluated
inline constexpr int kExitInterrupted = 130;  // Ctrl-C or SIGTERM: continue with --resume

struct run_command_options {
  std::vector<std::string> tasks;
  std::vector<std::string> models;
  std::vector<std::string> labels;
  std::optional<std::string> judge;  // model spec of the entailment judge (citations)
  // The judge's own key variable, so the model's key never reaches another server.
  std::string judge_api_key_env = "OPENAI_API_KEY";
  std::optional<std::size_t> limit;
  int concurrency = 8;
  std::filesystem::path out;
  bool resume = false;
  bool overwrite = false;
  bool quiet = false;
  task_options task;
  backend_options backend;
  // Set by the signal handler: stop dispatching, finish what is in flight, write run.json.
  const std::atomic<bool>* stop_requested = nullptr;
};

// Runs every (task, model) pair; prints the summary table on stdout. Returns an exit code.
// Throws input_error for unusable options or input.
int run_command(const run_command_options& options);

}  // namespace ys
