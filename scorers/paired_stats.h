// Paired statistics for two systems scored on the same items: is B really better than A?
// All functions are pure and thread-safe; randomised ones take an explicit seed so a report
// reproduces exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "scorers/stats.h"

namespace ys::stats {

struct paired_difference {
  std::size_t n = 0;
  double mean_a = 0.0;
  double mean_b = 0.0;
  double difference = 0.0;  // mean_b - mean_a
  interval ci95;            // percentile bootstrap of the mean difference over items
  int resamples = 0;
  std::uint64_t seed = 0;
};

// Paired bootstrap: resamples items (with replacement), keeping each item's (a, b) pair
// together. `a` and `b` have equal sizes; item i of each is the same item.
paired_difference paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b,
                                   int resamples = 10000, std::uint64_t seed = 1234);

struct mcnemar_result {
  std::size_t a_only = 0;  // items A got right and B got wrong
  std::size_t b_only = 0;  // items B got right and A got wrong
  double p_value = 1.0;    // exact two-sided binomial test on the discordant pairs
};

// Exact McNemar test for 0/1 scores.
mcnemar_result mcnemar_exact(const std::vector<double>& a, const std::vector<double>& b);
// The same from the discordant counts alone.
double mcnemar_exact_p(std::size_t a_only, std::size_t b_only);

// Two-sided paired sign-flip (permutation) test of mean(b - a) = 0 for graded scores: exact
// enumeration when at most 20 differences are non-zero, else `permutations` seeded random flips
// (with the +1 correction, so p is never 0).
double sign_flip_p_value(const std::vector<double>& a, const std::vector<double>& b,
                         int permutations = 10000, std::uint64_t seed = 1234);

// The smallest true difference of means this many paired items would detect with 80% power in a
// two-sided test at the 5% level, from the observed spread of the paired differences (normal
// approximation: (z_0.975 + z_0.8) * sd(b - a) / sqrt(n)). For 0/1 scores sd(b - a) follows from
// the discordance rate and the difference. 0 when n < 2.
double minimum_detectable_effect(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace ys::stats
