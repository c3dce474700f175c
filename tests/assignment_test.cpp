#include "scorers/assignment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

namespace ys::assignment {
namespace {

using pair_list = std::vector<std::pair<std::size_t, std::size_t>>;

// Best total over every way to match min(rows, cols) rows to distinct columns.
double brute_force_total(const std::vector<double>& w, std::size_t rows, std::size_t cols) {
  if (rows == 0 || cols == 0) return 0.0;
  const bool transposed = rows > cols;
  const std::size_t n = transposed ? cols : rows;
  const std::size_t m = transposed ? rows : cols;
  std::vector<std::size_t> perm(m);
  std::iota(perm.begin(), perm.end(), 0);
  double best = -std::numeric_limits<double>::infinity();
  do {
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      total += transposed ? w[perm[i] * cols + i] : w[i * cols + perm[i]];
    }
    best = std::max(best, total);
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

// The pairs form a valid one-to-one assignment of the smaller side and `total` is their sum.
void expect_valid(const result& r, const std::vector<double>& w, std::size_t rows,
                  std::size_t cols) {
  ASSERT_EQ(r.pairs.size(), std::min(rows, cols));
  std::vector<bool> row_used(rows, false);
  std::vector<bool> col_used(cols, false);
  double total = 0;
  for (std::size_t k = 0; k < r.pairs.size(); ++k) {
    const auto [row, col] = r.pairs[k];
    ASSERT_LT(row, rows);
    ASSERT_LT(col, cols);
    EXPECT_FALSE(row_used[row]);
    EXPECT_FALSE(col_used[col]);
    row_used[row] = col_used[col] = true;
    if (k > 0) {
      EXPECT_LT(r.pairs[k - 1].first, row) << "pairs must ascend by row";
    }
    total += w[row * cols + col];
  }
  EXPECT_DOUBLE_EQ(r.total, total);
}

TEST(Assignment, EmptyMatrices) {
  for (const auto& [rows, cols] : pair_list{{0, 0}, {0, 3}, {3, 0}}) {
    const auto r = max_weight_assignment({}, rows, cols);
    EXPECT_TRUE(r.pairs.empty());
    EXPECT_EQ(r.total, 0.0);
  }
}

TEST(Assignment, OneByOne) {
  const std::vector<double> w = {0.25};
  const auto r = max_weight_assignment(w, 1, 1);
  EXPECT_EQ(r.pairs, (pair_list{{0, 0}}));
  EXPECT_EQ(r.total, 0.25);
}

TEST(Assignment, SquareWithKnownOptimum) {
  // The greedy choice (9 at (0,0)) is wrong: 8 + 7 + 6 beats 9 + 1 + 1.
  const std::vector<double> w = {
      9, 8, 1,  //
      7, 1, 1,  //
      1, 1, 6,
  };
  const auto r = max_weight_assignment(w, 3, 3);
  EXPECT_EQ(r.pairs, (pair_list{{0, 1}, {1, 0}, {2, 2}}));
  EXPECT_EQ(r.total, 21.0);
}

TEST(Assignment, WideMatrixMatchesEveryRow) {
  const std::vector<double> w = {
      1, 5, 2, 0,  //
      4, 6, 1, 3,
  };
  const auto r = max_weight_assignment(w, 2, 4);
  EXPECT_EQ(r.pairs, (pair_list{{0, 1}, {1, 0}}));
  EXPECT_EQ(r.total, 9.0);
}

TEST(Assignment, TallMatrixMatchesEveryColumn) {
  const std::vector<double> w = {
      1, 4,  //
      5, 6,  //
      2, 1,  //
      0, 3,
  };
  const auto r = max_weight_assignment(w, 4, 2);
  // Row 1 is best for both columns; giving it column 0 (5 + 4) beats column 1 (6 + 2).
  EXPECT_EQ(r.pairs, (pair_list{{0, 1}, {1, 0}}));
  EXPECT_EQ(r.total, 9.0);
}

TEST(Assignment, TiesKeepAValidOptimum) {
  const std::vector<double> w(9, 1.0);
  const auto r = max_weight_assignment(w, 3, 3);
  expect_valid(r, w, 3, 3);
  EXPECT_EQ(r.total, 3.0);
}

TEST(Assignment, AllZeros) {
  const std::vector<double> w(6, 0.0);
  const auto r = max_weight_assignment(w, 2, 3);
  expect_valid(r, w, 2, 3);
  EXPECT_EQ(r.total, 0.0);
}

TEST(Assignment, ZerosBesideOneWeight) {
  // DROP's case: a single useful pair among zeros must be kept whatever the orientation.
  const std::vector<double> wide = {0, 0, 0.5};
  EXPECT_EQ(max_weight_assignment(wide, 1, 3).pairs, (pair_list{{0, 2}}));
  EXPECT_EQ(max_weight_assignment(wide, 3, 1).pairs, (pair_list{{2, 0}}));
}

TEST(Assignment, NegativeWeightsStillMatchTheSmallerSide) {
  // As in scipy: a full matching of the smaller side is required, so the best is -3 + -1.
  const std::vector<double> w = {
      -1,
      -5,  //
      -3,
      -9,
  };
  const auto r = max_weight_assignment(w, 2, 2);
  EXPECT_EQ(r.pairs, (pair_list{{0, 1}, {1, 0}}));
  EXPECT_EQ(r.total, -8.0);
}

TEST(Assignment, RejectsBadInput) {
  const std::vector<double> three = {1, 2, 3};
  EXPECT_THROW(max_weight_assignment(three, 2, 2), std::invalid_argument);
  const std::vector<double> nan = {std::numeric_limits<double>::quiet_NaN()};
  EXPECT_THROW(max_weight_assignment(nan, 1, 1), std::invalid_argument);
  const std::vector<double> inf = {std::numeric_limits<double>::infinity()};
  EXPECT_THROW(max_weight_assignment(inf, 1, 1), std::invalid_argument);
}

TEST(Assignment, SolverIsReusableAcrossShapes) {
  solver s;
  const std::vector<double> a = {9, 8, 1, 7, 1, 1, 1, 1, 6};
  EXPECT_EQ(s.solve(a, 3, 3).total, 21.0);
  const std::vector<double> b = {1, 4, 5, 6, 2, 1, 0, 3};
  EXPECT_EQ(s.solve(b, 4, 2).total, 9.0);
  EXPECT_EQ(s.solve(a, 3, 3).total, 21.0);
}

TEST(Assignment, MatchesBruteForceOnRandomMatrices) {
  std::mt19937 rng(20240607);
  std::uniform_int_distribution<std::size_t> size(1, 6);
  // Small integers make ties frequent; continuous values exercise the general case.
  std::uniform_int_distribution<int> small(0, 3);
  std::uniform_real_distribution<double> real(-1.0, 1.0);
  solver s;
  for (int trial = 0; trial < 3000; ++trial) {
    const std::size_t rows = size(rng);
    const std::size_t cols = size(rng);
    std::vector<double> w(rows * cols);
    for (double& x : w)
      x = trial % 2 == 0 ? small(rng) : real(rng);
    const result& r = s.solve(w, rows, cols);
    SCOPED_TRACE(testing::Message() << "trial " << trial << ": " << rows << "x" << cols);
    expect_valid(r, w, rows, cols);
    EXPECT_NEAR(r.total, brute_force_total(w, rows, cols), 1e-9);
  }
}

}  // namespace
}  // namespace ys::assignment
