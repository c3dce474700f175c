#include "harness/prompts.h"

namespace ys {

void fill_few_shot(request& req, std::string_view instruction, const std::vector<shot>& shots,
                   const std::string& final_prompt, const few_shot_layout& layout) {
  const std::string header = std::string(instruction) + "\n\n";
  if (req.chat) {
    std::string prefix = header;
    for (const auto& s : shots) {
      req.messages.push_back({"user", prefix + s.prompt});
      req.messages.push_back({"assistant", std::string(layout.chat_answer_prefix) + s.answer});
      prefix.clear();
    }
    req.messages.push_back({"user", prefix + final_prompt});
    return;
  }
  req.prompt = header;
  for (const auto& s : shots) {
    req.prompt += s.prompt + "\nAnswer: " + s.answer;
    req.prompt += layout.separator;
  }
  req.prompt += final_prompt + "\nAnswer:";
}

}  // namespace ys
