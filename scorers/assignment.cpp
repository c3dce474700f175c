#include "scorers/assignment.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace ys::assignment {

const result& solver::solve(std::span<const double> weights, std::size_t rows, std::size_t cols) {
  if (rows != 0 && cols > std::numeric_limits<std::size_t>::max() / rows) {
    throw std::invalid_argument("assignment: matrix dimensions overflow");
  }
  if (weights.size() != rows * cols) {
    throw std::invalid_argument("assignment: expected " + std::to_string(rows * cols) +
                                " weights, got " + std::to_string(weights.size()));
  }
  for (const double w : weights) {
    if (!std::isfinite(w)) throw std::invalid_argument("assignment: weights must be finite");
  }
  result_.pairs.clear();
  result_.total = 0.0;
  if (rows == 0 || cols == 0) return result_;

  // The method matches every vertex of the smaller side, so it runs on the matrix oriented with
  // the smaller side as rows; `transposed` maps back.
  const bool transposed = rows > cols;
  const std::size_t n = transposed ? cols : rows;
  const std::size_t m = transposed ? rows : cols;
  // Minimizing the negated weights maximizes the weights.
  const auto cost = [&](std::size_t i, std::size_t j) {
    return -(transposed ? weights[j * cols + i] : weights[i * cols + j]);
  };

  constexpr double kInf = std::numeric_limits<double>::infinity();
  // Index 0 is a virtual column/row that simplifies the augmenting-path bookkeeping; real
  // indices are 1-based below.
  row_potential_.assign(n + 1, 0.0);
  col_potential_.assign(m + 1, 0.0);
  row_of_col_.assign(m + 1, 0);
  previous_col_.assign(m + 1, 0);
  for (std::size_t i = 1; i <= n; ++i) {
    row_of_col_[0] = i;
    std::size_t col = 0;
    slack_.assign(m + 1, kInf);
    visited_.assign(m + 1, 0);
    do {
      visited_[col] = 1;
      const std::size_t row = row_of_col_[col];
      double delta = kInf;
      std::size_t next = 0;
      for (std::size_t j = 1; j <= m; ++j) {
        if (visited_[j]) continue;
        const double reduced = cost(row - 1, j - 1) - row_potential_[row] - col_potential_[j];
        if (reduced < slack_[j]) {
          slack_[j] = reduced;
          previous_col_[j] = col;
        }
        // The first unvisited column is a fallback so that a path always extends, even if
        // huge weights made every reduced cost overflow.
        if (slack_[j] < delta || next == 0) {
          delta = slack_[j];
          next = j;
        }
      }
      for (std::size_t j = 0; j <= m; ++j) {
        if (visited_[j]) {
          row_potential_[row_of_col_[j]] += delta;
          col_potential_[j] -= delta;
        } else {
          slack_[j] -= delta;
        }
      }
      col = next;
    } while (row_of_col_[col] != 0);
    // Flip the augmenting path back to the virtual column.
    do {
      const std::size_t previous = previous_col_[col];
      row_of_col_[col] = row_of_col_[previous];
      col = previous;
    } while (col != 0);
  }

  result_.pairs.reserve(n);
  if (transposed) {
    // Original rows are the columns here, so ascending j is already row order.
    for (std::size_t j = 1; j <= m; ++j) {
      if (row_of_col_[j] != 0) result_.pairs.emplace_back(j - 1, row_of_col_[j] - 1);
    }
  } else {
    col_of_row_.assign(n, 0);
    for (std::size_t j = 1; j <= m; ++j) {
      if (row_of_col_[j] != 0) col_of_row_[row_of_col_[j] - 1] = j - 1;
    }
    for (std::size_t i = 0; i < n; ++i)
      result_.pairs.emplace_back(i, col_of_row_[i]);
  }
  for (const auto& [r, c] : result_.pairs)
    result_.total += weights[r * cols + c];
  return result_;
}

result max_weight_assignment(std::span<const double> weights, std::size_t rows, std::size_t cols) {
  solver s;
  return s.solve(weights, rows, cols);
}

}  // namespace ys::assignment
