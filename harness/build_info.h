// Where a number came from: build, revision and host, recorded in every run.json.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace ys {

std::string yardstick_version();
std::string git_revision();
std::string build_type();

// Build type, revision, compiler, library versions and host (name, CPU, cores); includes a
// warning when the build is not optimised, so a slow number is never read without knowing why.
nlohmann::json build_context();

// The shipped datasets folder: $YARDSTICK_DATA_DIR when set, else `datasets/` in the source tree
// this binary was built from.
std::filesystem::path data_dir();

// RFC 3339 UTC time with milliseconds, e.g. 2026-12-04T16:02:57.123Z.
std::string utc_timestamp();

}  // namespace ys
