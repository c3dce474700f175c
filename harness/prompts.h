// Few-shot prompts laid out the same way by every task, as chat turns or as one completion text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "harness/types.h"

namespace ys {

struct shot {
  std::string prompt;  // the exemplar's question block, as the task renders it
  std::string answer;  // its worked answer
};

struct few_shot_layout {
  std::string_view chat_answer_prefix;  // put before each exemplar answer in chat turns
  std::string_view separator = "\n\n";  // after each exemplar in a completion prompt
};

// Fills `req.messages` when `req.chat`, else `req.prompt`:
// - chat: the instruction rides in the first user turn (some chat templates reject a system
//   role), exemplars are user/assistant pairs, the question is the last user turn;
// - completion: instruction, blank line, then "PROMPT\nAnswer: ANSWER" + separator per exemplar,
//   ending with "PROMPT\nAnswer:" so the model continues with its answer.
void fill_few_shot(request& req, std::string_view instruction, const std::vector<shot>& shots,
                   const std::string& final_prompt, const few_shot_layout& layout = {});

}  // namespace ys
