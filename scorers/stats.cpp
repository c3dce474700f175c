#include "scorers/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ys::stats {

interval wilson_interval(double successes, std::size_t n, double z) {
  if (n == 0) return {0.0, 1.0};
  const double count = static_cast<double>(n);
  const double p = successes / count;
  const double z2 = z * z;
  const double denominator = 1.0 + z2 / count;
  const double centre = (p + z2 / (2.0 * count)) / denominator;
  const double half =
      z * std::sqrt(p * (1.0 - p) / count + z2 / (4.0 * count * count)) / denominator;
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

summary summarize(const std::vector<double>& values, bool binary) {
  summary s;
  s.n = values.size();
  s.ci_method = binary ? "wilson" : "normal";
  if (values.empty()) {
    s.ci95 = binary ? interval{0.0, 1.0} : interval{0.0, 0.0};
    return s;
  }
  const double count = static_cast<double>(values.size());
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / count;
  if (values.size() > 1) {
    double squares = 0.0;
    for (double v : values)
      squares += (v - s.mean) * (v - s.mean);
    s.stderr_of_mean = std::sqrt(squares / (count - 1.0)) / std::sqrt(count);
  }
  if (binary) {
    s.ci95 = wilson_interval(s.mean * count, values.size());
  } else {
    s.ci95 = {s.mean - kZ95 * s.stderr_of_mean, s.mean + kZ95 * s.stderr_of_mean};
  }
  return s;
}

nlohmann::json to_json(const summary& s) {
  return {{"value", s.mean},
          {"stderr", s.stderr_of_mean},
          {"ci95", {s.ci95.low, s.ci95.high}},
          {"ci_method", s.ci_method},
          {"n", s.n}};
}

}  // namespace ys::stats
