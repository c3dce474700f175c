// `yardstick profile`: cost per token of a dense or mixture-of-experts model, analytic and
// (with --measure) measured on this machine's CPU or GPU.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ys {

struct profile_command_options {
  std::string model_config;  // a config.json path or a preset name
  std::int64_t context = 4096;
  std::int64_t batch = 1;
  std::string device = "h100-sxm";
  double bytes_per_param = 2.0;
  std::string format = "table";  // table | json
  // --measure: time the FFN layer at the config's shapes on this machine.
  bool measure = false;
  std::string backend = "cpu";  // cpu | cuda
  double scale = 0;             // 0: the largest that fits the backend's budget
  std::vector<std::int64_t> tokens = {1, 4, 16, 64, 256, 1024};
  int threads = 0;  // CPU threads for --measure; 0: OpenMP's default
};

int profile_command(const profile_command_options& options);

}  // namespace ys
