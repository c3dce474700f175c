// Citation accuracy (ALCE, Gao et al., 2023): the model answers from numbered passages and cites
// them as [1], [2][3]; scored for citation recall and precision with an entailment judge, and
// for correctness where the dataset has gold answers (ASQA str-em, QAMPARI list F1, ELI5 claims).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/task.h"

namespace ys {

// "asqa", "qampari" or "eli5" from an item's gold fields (qa_pairs, answers, claims), else from
// the file name; "" when neither tells.
std::string detect_citation_style(const nlohmann::json& items, const std::filesystem::path& file);

std::unique_ptr<task> make_citations_task(const task_options& options);

}  // namespace ys
