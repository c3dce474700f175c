// One generic name -> factory registry for tasks, back ends and (later) report formats.
// Entries are added by explicit calls from cli/ rather than static initialisers, which a linker
// may drop from static libraries.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness/errors.h"

namespace ys {

// The registered name closest to `wanted` by edit distance, or "" when none is plausibly meant.
std::string nearest_name(std::string_view wanted, const std::vector<std::string>& names);

// Builds the message "unknown KIND 'x'; did you mean 'y'? (known: a, b, c)".
std::string unknown_name_message(std::string_view kind, std::string_view wanted,
                                 const std::vector<std::string>& names);

template <class Product, class... Args>
class registry {
 public:
  using factory = std::function<std::unique_ptr<Product>(Args...)>;

  explicit registry(std::string kind) : kind_(std::move(kind)) {}

  void add(std::string name, std::string description, factory make) {
    entries_[std::move(name)] = entry{std::move(description), std::move(make)};
  }

  // Throws input_error with the nearest valid name when `name` is unknown.
  std::unique_ptr<Product> create(const std::string& name, Args... args) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) throw input_error(unknown_name_message(kind_, name, names()));
    return it->second.make(std::forward<Args>(args)...);
  }

  bool contains(const std::string& name) const { return entries_.count(name) != 0; }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, e] : entries_)
      out.push_back(name);
    return out;
  }

  const std::string& description(const std::string& name) const {
    return entries_.at(name).description;
  }

 private:
  struct entry {
    std::string description;
    factory make;
  };
  std::string kind_;
  std::map<std::string, entry> entries_;
};

}  // namespace ys
