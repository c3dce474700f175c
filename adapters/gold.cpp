#include "adapters/gold.h"

#include <fmt/format.h>

namespace ys {

namespace {

class gold_backend final : public model_backend {
 public:
  response generate(const request& req) override {
    response reply;
    if (req.reference.empty()) {
      reply.failure = error{
          error_code::invalid_argument,
          fmt::format("sample '{}' has no reference answer for the gold back end", req.source_id)};
      return reply;
    }
    reply.texts.assign(static_cast<std::size_t>(std::max(1, req.params.n)), req.reference);
    reply.finish_reasons.assign(reply.texts.size(), "reference");
    return reply;
  }

  nlohmann::json describe() const override {
    return {{"backend", "gold"},
            {"note", "the dataset's own reference answers, scored as outputs"}};
  }

  std::string default_label() const override { return "gold"; }
};

}  // namespace

std::unique_ptr<model_backend> make_gold_backend(const std::string& target,
                                                 const backend_options& options) {
  (void)options;
  if (!target.empty()) throw input_error("the gold back end takes no target: use --model gold");
  return std::make_unique<gold_backend>();
}

}  // namespace ys
