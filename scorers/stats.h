// Summary statistics for per-sample metrics.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ys::stats {

inline constexpr double kZ95 = 1.959963984540054;  // two-sided 95% normal quantile

struct interval {
  double low = 0.0;
  double high = 0.0;
};

struct summary {
  std::size_t n = 0;
  double mean = 0.0;
  double stderr_of_mean = 0.0;  // sample standard deviation (n - 1) over sqrt(n)
  interval ci95;
  std::string ci_method;  // "wilson" for 0/1 metrics, "normal" otherwise
};

// Wilson score interval for `successes` out of `n` (well-behaved near 0 and 1 and for small n,
// unlike mean +/- 1.96 SE). n == 0 gives [0, 1].
interval wilson_interval(double successes, std::size_t n, double z = kZ95);

// Mean, standard error and 95% CI of `values`; `binary` selects the Wilson interval.
summary summarize(const std::vector<double>& values, bool binary);

nlohmann::json to_json(const summary& s);

}  // namespace ys::stats
