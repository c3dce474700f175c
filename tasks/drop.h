// DROP (Dua et al., 2019): reading comprehension with discrete reasoning over a passage, scored
// with the official EM and F1 (allennlp's drop_eval, reproduced in scorers/drop_metrics).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness/task.h"

namespace ys {

// Stop sequences for DROP prompts, applied to every completion before extraction.
const std::vector<std::string>& drop_stop_sequences();

struct drop_extraction {
  std::vector<std::string> spans;
  std::string source;  // "marker" (after the last "Answer:"), "last_line", or "none"
};

// The predicted spans of a completion: the text after the LAST "Answer:" (any case) to the end
// of its line, else the last non-empty line; <think> blocks removed first; split on '|'; each
// span trimmed of whitespace, trailing . , ; :, surrounding quotes and ** bold marks.
drop_extraction extract_drop_answer(std::string_view completion);

std::unique_ptr<task> make_drop_task(const task_options& options);

}  // namespace ys
