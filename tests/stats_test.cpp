#include "scorers/stats.h"

#include <gtest/gtest.h>

namespace ys::stats {
namespace {

TEST(Stats, WilsonIntervalMatchesReferenceValues) {
  // Reference: Wilson (1927) score interval, e.g. statsmodels proportion_confint(method="wilson").
  const auto half = wilson_interval(50, 100);
  EXPECT_NEAR(half.low, 0.40383, 1e-5);
  EXPECT_NEAR(half.high, 0.59617, 1e-5);
  const auto zero = wilson_interval(0, 10);
  EXPECT_NEAR(zero.low, 0.0, 1e-12);
  EXPECT_NEAR(zero.high, 0.27753, 1e-5);
  const auto all = wilson_interval(10, 10);
  EXPECT_NEAR(all.low, 0.72247, 1e-5);
  EXPECT_NEAR(all.high, 1.0, 1e-12);
}

TEST(Stats, SummaryOfBinaryValues) {
  const std::vector<double> values{1, 0, 1, 1};
  const auto s = summarize(values, true);
  EXPECT_EQ(s.n, 4u);
  EXPECT_DOUBLE_EQ(s.mean, 0.75);
  EXPECT_NEAR(s.stderr_of_mean, 0.25, 1e-12);  // sd (n-1) = 0.5, over sqrt(4)
  EXPECT_EQ(s.ci_method, "wilson");
  EXPECT_NEAR(s.ci95.low, wilson_interval(3, 4).low, 1e-12);
}

TEST(Stats, SummaryOfGradedValuesUsesNormalInterval) {
  const std::vector<double> values{0.2, 0.4, 0.6, 0.8};
  const auto s = summarize(values, false);
  EXPECT_NEAR(s.mean, 0.5, 1e-12);
  const double se = 0.25819888974716 / 2.0;
  EXPECT_NEAR(s.stderr_of_mean, se, 1e-12);
  EXPECT_NEAR(s.ci95.low, 0.5 - kZ95 * se, 1e-12);
  EXPECT_NEAR(s.ci95.high, 0.5 + kZ95 * se, 1e-12);
}

TEST(Stats, EmptyInputHasNoFalsePrecision) {
  const auto s = summarize({}, true);
  EXPECT_EQ(s.n, 0u);
  EXPECT_DOUBLE_EQ(s.ci95.low, 0.0);
  EXPECT_DOUBLE_EQ(s.ci95.high, 1.0);
}

}  // namespace
}  // namespace ys::stats
