#include "harness/sampling.h"

#include <algorithm>
#include <random>

namespace ys {

std::vector<std::size_t> seeded_sample(std::size_t population, std::size_t count,
                                       std::uint64_t seed) {
  std::vector<std::size_t> order(population);
  for (std::size_t i = 0; i < population; ++i)
    order[i] = i;
  std::mt19937_64 generator(seed);  // its output sequence is fixed by the standard
  count = std::min(count, population);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t j = i + static_cast<std::size_t>(generator() % (population - i));
    std::swap(order[i], order[j]);
  }
  order.resize(count);
  return order;
}

}  // namespace ys
