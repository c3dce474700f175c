// Maximum-weight one-to-one assignment (the linear assignment problem) on a dense rectangular
// matrix, by the Hungarian method with potentials and shortest augmenting paths: O(n^2 m) for
// n = min(rows, cols), m = max(rows, cols).
//
// Semantics follow scipy.optimize.linear_sum_assignment (on the negated matrix), which DROP's
// official scorer uses: every row is matched when rows <= cols, every column otherwise, so the
// result always has min(rows, cols) pairs, and among those matchings the total weight is maximal.
// Weights may be negative; they must be finite.
#pragma once

#include <cstddef>
#include <span>
#include <utility>
#include <vector>

namespace ys::assignment {

struct result {
  std::vector<std::pair<std::size_t, std::size_t>> pairs;  // (row, col), ascending by row
  double total = 0.0;  // sum of the chosen weights, added in row order
};

// Reusable working memory: solving many small problems through one solver allocates nothing
// once its buffers have grown to the largest size seen.
class solver {
 public:
  // `weights` is row-major, rows * cols values. Throws std::invalid_argument when its size does
  // not match or a weight is not finite. The returned reference stays valid until the next call.
  const result& solve(std::span<const double> weights, std::size_t rows, std::size_t cols);

 private:
  std::vector<double> row_potential_;
  std::vector<double> col_potential_;
  std::vector<double> slack_;
  std::vector<std::size_t> row_of_col_;
  std::vector<std::size_t> previous_col_;
  std::vector<char> visited_;
  std::vector<std::size_t> col_of_row_;
  result result_;
};

// One-off convenience form of solver::solve.
result max_weight_assignment(std::span<const double> weights, std::size_t rows, std::size_t cols);

}  // namespace ys::assignment
