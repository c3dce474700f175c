// Seeded choices that must come out the same on every platform and standard library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ys {

// `count` distinct indexes in [0, population) chosen by a seeded Fisher-Yates shuffle written
// out here (std::uniform_int_distribution differs between standard libraries; this must not).
std::vector<std::size_t> seeded_sample(std::size_t population, std::size_t count,
                                       std::uint64_t seed);

}  // namespace ys
