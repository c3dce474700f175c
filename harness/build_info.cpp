#include "harness/build_info.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace ys {

std::string yardstick_version() {
  return YARDSTICK_VERSION;
}
std::string git_revision() {
  return YARDSTICK_GIT_REVISION;
}
std::string build_type() {
  return YARDSTICK_BUILD_TYPE;
}

namespace {

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

std::string host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof(buffer) - 1) != 0) return "unknown";
  return buffer;
}

std::string compiler() {
#if defined(__clang__)
  return fmt::format("clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
  return fmt::format("gcc {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
  return "unknown";
#endif
}

}  // namespace

nlohmann::json build_context() {
  nlohmann::json j;
  j["yardstick_version"] = yardstick_version();
  j["git_revision"] = git_revision();
  j["build_type"] = build_type();
  j["compiler"] = compiler();
  j["libraries"] = {
      {"fmt",
       fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100)},
      {"nlohmann_json", fmt::format("{}.{}.{}", NLOHMANN_JSON_VERSION_MAJOR,
                                    NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH)}};
  j["host"] = {{"name", host_name()},
               {"cpu", cpu_model()},
               {"hardware_threads", std::thread::hardware_concurrency()}};
  if (build_type() != "Release" && build_type() != "RelWithDebInfo") {
    j["warning"] = fmt::format("{} build: timings are not representative", build_type());
  }
  return j;
}

std::filesystem::path data_dir() {
  // Read once at start-up from the main thread; nothing in yardstick sets the environment.
  if (const char* dir = std::getenv("YARDSTICK_DATA_DIR"); dir && *dir) return dir;  // NOLINT
  return std::filesystem::path(YARDSTICK_SOURCE_DIR) / "datasets";
}

std::string utc_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(now)), ms);
}

}  // namespace ys
