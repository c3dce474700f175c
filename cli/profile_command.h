// `yardstick profile`: analytic cost per token of a dense or mixture-of-experts model.
#pragma once

#include <cstdint>
#include <string>

namespace ys {

struct profile_command_options {
  std::string model_config;  // a config.json path or a preset name
  std::int64_t context = 4096;
  std::int64_t batch = 1;
  std::string device = "h100-sxm";
  double bytes_per_param = 2.0;
  std::string format = "table";  // table | json
};

int profile_command(const profile_command_options& options);

}  // namespace ys
