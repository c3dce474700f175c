#include "harness/registry.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace ys {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
    }
  }
  return row[b.size()];
}

}  // namespace

std::string nearest_name(std::string_view wanted, const std::vector<std::string>& names) {
  std::string best;
  std::size_t best_distance = 0;
  for (const auto& name : names) {
    const std::size_t d = edit_distance(wanted, name);
    if (best.empty() || d < best_distance) {
      best = name;
      best_distance = d;
    }
  }
  // Suggest only what a typo could explain: at most a third of the name wrong.
  const std::size_t allowed = std::max<std::size_t>(2, wanted.size() / 3);
  return best_distance <= allowed ? best : std::string();
}

std::string unknown_name_message(std::string_view kind, std::string_view wanted,
                                 const std::vector<std::string>& names) {
  std::string message = fmt::format("unknown {} '{}'", kind, wanted);
  if (auto nearest = nearest_name(wanted, names); !nearest.empty()) {
    message += fmt::format("; did you mean '{}'?", nearest);
  }
  message += fmt::format(" (known: {})", fmt::join(names, ", "));
  return message;
}

}  // namespace ys
