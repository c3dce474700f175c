#include "scorers/paired_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace ys::stats {
namespace {

constexpr double kZ80 = 0.8416212335729143;  // one-sided normal quantile for 80% power
// Ties in the sign-flip test: sums of the same differences in another order may differ in the
// last bits, and an assignment that ties the observed mean must count as "as extreme".
constexpr double kTieTolerance = 1e-12;
constexpr std::size_t kMaxExactSignFlips = 20;

// Item-wise b - a. Sizes must match and scores must be finite: a NaN would silently poison every
// mean and break the strict ordering the percentile sort relies on.
std::vector<double> differences(const std::vector<double>& a, const std::vector<double>& b,
                                const char* caller) {
  if (a.size() != b.size()) {
    throw std::invalid_argument(std::string(caller) + ": a has " + std::to_string(a.size()) +
                                " items but b has " + std::to_string(b.size()));
  }
  std::vector<double> d(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) {
      throw std::invalid_argument(std::string(caller) + ": item " + std::to_string(i) +
                                  " has a non-finite score");
    }
    d[i] = b[i] - a[i];
  }
  return d;
}

double mean_of(const std::vector<double>& values) {
  if (values.empty()) return 0.0;
  double sum = 0.0;
  for (double v : values)
    sum += v;
  return sum / static_cast<double>(values.size());
}

// High 64 bits of the 128-bit product, written out in 32-bit halves so that it needs no compiler
// extension and gives the same bits everywhere.
std::uint64_t multiply_high(std::uint64_t x, std::uint64_t y, std::uint64_t& low) {
  constexpr std::uint64_t kLow32 = 0xffffffffULL;
  const std::uint64_t x0 = x & kLow32;
  const std::uint64_t x1 = x >> 32;
  const std::uint64_t y0 = y & kLow32;
  const std::uint64_t y1 = y >> 32;
  const std::uint64_t p00 = x0 * y0;
  const std::uint64_t p01 = x0 * y1;
  const std::uint64_t p10 = x1 * y0;
  const std::uint64_t p11 = x1 * y1;
  const std::uint64_t middle = (p00 >> 32) + (p01 & kLow32) + (p10 & kLow32);
  low = x * y;
  return p11 + (p01 >> 32) + (p10 >> 32) + (middle >> 32);
}

// Unbiased indexes in [0, range) from raw engine output: Lemire's multiply-shift with rejection.
// std::uniform_int_distribution is not specified bit for bit, so a report seeded the same way
// would resample differently under libstdc++, libc++ and MSVC. Ranges up to 2^32 (every real item
// count) take two draws from each 64-bit output, low half first, because the engine itself is
// most of the bootstrap's time; the halves form one stream across calls.
class index_draw {
 public:
  index_draw(std::uint64_t range, std::mt19937_64& engine)
      : range_(range),
        threshold_(range > kHalfRange ? (0 - range) % range : (kHalfRange - range) % range),
        engine_(engine) {}

  void fill(std::vector<std::uint64_t>& out) {
    if (range_ > kHalfRange) {
      for (std::uint64_t& index : out)
        index = draw_64();
      return;
    }
    // Branch-free acceptance: write the candidate, advance only when it is accepted.
    std::size_t i = 0;
    if (have_half_ && !out.empty()) {
      have_half_ = false;
      i += accept_32(word_ >> 32, out[i]);
    }
    while (i < out.size()) {
      word_ = engine_();
      i += accept_32(word_ & kLow32, out[i]);
      if (i == out.size()) {
        have_half_ = true;
        break;
      }
      i += accept_32(word_ >> 32, out[i]);
    }
  }

 private:
  static constexpr std::uint64_t kHalfRange = std::uint64_t{1} << 32;
  static constexpr std::uint64_t kLow32 = kHalfRange - 1;

  // Only products whose low part falls below 2^bits mod range would bias the result; those are
  // rejected (about range / 2^32 of the draws) and the next half taken instead.
  std::size_t accept_32(std::uint64_t half, std::uint64_t& index) const {
    const std::uint64_t product = half * range_;  // < 2^64: half < 2^32 and range <= 2^32
    index = product >> 32;
    return (product & kLow32) >= threshold_ ? 1 : 0;
  }

  std::uint64_t draw_64() {
    std::uint64_t low = 0;
    std::uint64_t high = multiply_high(engine_(), range_, low);
    while (low < threshold_)
      high = multiply_high(engine_(), range_, low);
    return high;
  }

  std::uint64_t range_;
  std::uint64_t threshold_;  // 2^32 or 2^64 mod range, by the draw in use
  std::mt19937_64& engine_;
  std::uint64_t word_ = 0;
  bool have_half_ = false;  // the high half of word_ is still unused
};

// ln(m!). Not std::lgamma: glibc's writes the global `signgam`, a data race when reports are
// computed on several threads, and these functions promise thread safety. Small m sum the logs;
// from 16 on, Stirling's series to the m^-7 term (truncation error below 1.2e-14) agrees with
// lgamma to a few units in the last place of the result.
double log_factorial(std::size_t m) {
  constexpr std::size_t kSeriesFrom = 16;
  constexpr double kHalfLogTwoPi = 0.91893853320467274178;  // ln(2 pi) / 2
  if (m < kSeriesFrom) {
    double sum = 0.0;
    for (std::size_t i = 2; i <= m; ++i)
      sum += std::log(static_cast<double>(i));
    return sum;
  }
  const double x = static_cast<double>(m);
  const double inverse = 1.0 / x;
  const double inverse_squared = inverse * inverse;
  const double series =
      inverse * (1.0 / 12.0 -
                 inverse_squared *
                     (1.0 / 360.0 - inverse_squared * (1.0 / 1260.0 - inverse_squared / 1680.0)));
  return (x + 0.5) * std::log(x) - x + kHalfLogTwoPi + series;
}

// Linear interpolation between order statistics at position q * (size - 1) (Hyndman and Fan's
// type 7, the default of numpy.percentile and R's quantile), so the CI can be checked against
// either. `sorted` is non-empty and ascending.
double percentile_of_sorted(const std::vector<double>& sorted, double q) {
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

// Share of the 2^k sign assignments of `nonzero` whose mean over `count` items is at least as far
// from 0 as the observed one. Meet in the middle: each total is one addition of two half sums,
// each summed directly, so rounding stays far inside kTieTolerance (a running Gray-code update
// would accumulate error over a million steps).
double exact_sign_flip_p(const std::vector<double>& nonzero, double count, double threshold) {
  const std::size_t k = nonzero.size();
  const std::size_t low_bits = k / 2;
  auto half_sums = [&nonzero](std::size_t first, std::size_t bits) {
    std::vector<double> sums(std::size_t{1} << bits);
    for (std::size_t mask = 0; mask < sums.size(); ++mask) {
      double sum = 0.0;
      for (std::size_t j = 0; j < bits; ++j)
        sum += ((mask >> j) & 1U) != 0 ? -nonzero[first + j] : nonzero[first + j];
      sums[mask] = sum;
    }
    return sums;
  };
  const std::vector<double> low = half_sums(0, low_bits);
  const std::vector<double> high = half_sums(low_bits, k - low_bits);
  std::uint64_t extreme = 0;
  for (double high_sum : high) {
    for (double low_sum : low)
      extreme += std::abs((high_sum + low_sum) / count) >= threshold ? 1 : 0;
  }
  return static_cast<double>(extreme) / static_cast<double>(high.size() * low.size());
}

}  // namespace

paired_difference paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b,
                                   int resamples, std::uint64_t seed) {
  if (resamples < 1) throw std::invalid_argument("paired_bootstrap: resamples must be >= 1");
  const std::vector<double> d = differences(a, b, "paired_bootstrap");
  paired_difference result;
  result.n = d.size();
  result.resamples = resamples;
  result.seed = seed;
  if (d.empty()) return result;
  result.mean_a = mean_of(a);
  result.mean_b = mean_of(b);
  result.difference = result.mean_b - result.mean_a;

  // Resampling pairs is resampling their differences, so each resample is one pass of n indexed
  // loads over a single precomputed array. Four partial sums, added as (s0 + s1) + (s2 + s3), keep
  // the additions from waiting on one another; the order is fixed, so results stay reproducible.
  std::mt19937_64 engine(seed);
  index_draw draw(d.size(), engine);
  std::vector<std::uint64_t> picks(d.size());
  const double count = static_cast<double>(d.size());
  std::vector<double> means(static_cast<std::size_t>(resamples));
  for (double& mean : means) {
    draw.fill(picks);
    double sums[4] = {0.0, 0.0, 0.0, 0.0};
    std::size_t i = 0;
    for (; i + 4 <= picks.size(); i += 4) {
      sums[0] += d[picks[i]];
      sums[1] += d[picks[i + 1]];
      sums[2] += d[picks[i + 2]];
      sums[3] += d[picks[i + 3]];
    }
    for (; i < picks.size(); ++i)
      sums[i % 4] += d[picks[i]];
    mean = ((sums[0] + sums[1]) + (sums[2] + sums[3])) / count;
  }
  std::sort(means.begin(), means.end());
  result.ci95 = {percentile_of_sorted(means, 0.025), percentile_of_sorted(means, 0.975)};
  return result;
}

mcnemar_result mcnemar_exact(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) {
    throw std::invalid_argument("mcnemar_exact: a has " + std::to_string(a.size()) +
                                " items but b has " + std::to_string(b.size()));
  }
  mcnemar_result result;
  for (std::size_t i = 0; i < a.size(); ++i) {
    // Scores near 0/1 (e.g. 0.9999 after averaging) still count; only the side of 0.5 matters.
    const bool a_right = a[i] > 0.5;
    const bool b_right = b[i] > 0.5;
    if (a_right && !b_right) ++result.a_only;
    if (b_right && !a_right) ++result.b_only;
  }
  result.p_value = mcnemar_exact_p(result.a_only, result.b_only);
  return result;
}

double mcnemar_exact_p(std::size_t a_only, std::size_t b_only) {
  const std::size_t n = a_only + b_only;
  const std::size_t k = std::min(a_only, b_only);
  // P(X <= n / 2) >= 0.5, so the doubled tail is capped at 1; this also covers n == 0.
  if (2 * k >= n) return 1.0;
  const double total = static_cast<double>(n);
  // Binomial coefficients overflow doubles beyond n ~ 1,000, so the top term of the tail is
  // taken in log space, and the rest as ratios to it: pmf(i - 1) / pmf(i) = i / (n - i + 1),
  // which is below 1 here, so the terms shrink and the sum stops once they no longer matter.
  const double log_top =
      log_factorial(n) - log_factorial(k) - log_factorial(n - k) - total * std::log(2.0);
  double relative_sum = 1.0;
  double term = 1.0;
  for (std::size_t i = k; i > 0; --i) {
    term *= static_cast<double>(i) / static_cast<double>(n - i + 1);
    relative_sum += term;
    if (term < relative_sum * 1e-17) break;
  }
  return std::min(1.0, 2.0 * std::exp(log_top + std::log(relative_sum)));
}

double sign_flip_p_value(const std::vector<double>& a, const std::vector<double>& b,
                         int permutations, std::uint64_t seed) {
  if (permutations < 1) throw std::invalid_argument("sign_flip_p_value: permutations must be >= 1");
  const std::vector<double> d = differences(a, b, "sign_flip_p_value");
  if (d.empty()) return 1.0;
  // Zero differences are the same under either sign, so only the others are flipped; the mean
  // still divides by every item.
  std::vector<double> nonzero;
  for (double v : d) {
    if (v != 0.0) nonzero.push_back(v);
  }
  const double count = static_cast<double>(d.size());
  const double threshold = std::abs(mean_of(d)) - kTieTolerance;
  if (nonzero.size() <= kMaxExactSignFlips) return exact_sign_flip_p(nonzero, count, threshold);

  // Each 64-bit engine output supplies the signs of 64 differences, least significant bit first,
  // so the flips are the same on every standard library.
  std::mt19937_64 engine(seed);
  std::uint64_t extreme = 0;
  for (int p = 0; p < permutations; ++p) {
    double sum = 0.0;
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < nonzero.size(); ++i) {
      if (i % 64 == 0) bits = engine();
      sum += ((bits >> (i % 64)) & 1U) != 0 ? -nonzero[i] : nonzero[i];
    }
    extreme += std::abs(sum / count) >= threshold ? 1 : 0;
  }
  // The +1s count the observed assignment itself, which keeps the test valid (p is never 0).
  return static_cast<double>(extreme + 1) / static_cast<double>(permutations + 1);
}

double minimum_detectable_effect(const std::vector<double>& a, const std::vector<double>& b) {
  const std::vector<double> d = differences(a, b, "minimum_detectable_effect");
  if (d.size() < 2) return 0.0;
  const double mean = mean_of(d);
  double squares = 0.0;
  for (double v : d)
    squares += (v - mean) * (v - mean);
  const double count = static_cast<double>(d.size());
  // For 0/1 scores each difference is -1, 0 or 1, so this variance is n / (n - 1) times the
  // discordance rate minus the squared difference: the same formula covers both kinds.
  const double sd = std::sqrt(squares / (count - 1.0));
  return (kZ95 + kZ80) * sd / std::sqrt(count);
}

}  // namespace ys::stats
