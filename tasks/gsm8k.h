// GSM8K (Cobbe et al., 2021): grade-school math word problems with one numeric answer, scored by
// exact numeric match of the extracted final answer, with maj@K and pass@K for K samples.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "harness/sampling.h"
#include "harness/task.h"

namespace ys {

// Stop sequences applied to every completion before extraction, replayed ones included.
const std::vector<std::string>& gsm8k_stop_sequences();

// One problem of the official JSONL: `question`, `answer` (worked solution, final `#### N`).
struct gsm8k_problem {
  std::string question;
  std::string solution;  // the answer text, calculator annotations included
  std::string final_answer;
};

// Reads the official JSONL; throws input_error naming the file, line and field.
std::vector<gsm8k_problem> read_gsm8k(const std::filesystem::path& path);

// A train solution as a chain-of-thought exemplar: `<<...>>` annotations removed and the final
// `#### N` line rewritten as "The answer is N.".
std::string gsm8k_exemplar_answer(const gsm8k_problem& problem);

std::unique_ptr<task> make_gsm8k_task(const task_options& options);

}  // namespace ys
