#include "harness/registry.h"

#include <gtest/gtest.h>

#include "adapters/register.h"
#include "tasks/register.h"

namespace ys {
namespace {

struct widget {
  int value;
};

TEST(Registry, CreatesRegisteredProduct) {
  registry<widget, int> widgets("widget");
  widgets.add("seven", "adds seven", [](int x) { return std::make_unique<widget>(widget{x + 7}); });
  EXPECT_EQ(widgets.create("seven", 3)->value, 10);
  EXPECT_TRUE(widgets.contains("seven"));
  EXPECT_FALSE(widgets.contains("eight"));
}

TEST(Registry, UnknownNameSuggestsNearest) {
  registry<widget> widgets("widget");
  widgets.add("gsm8k", "", [] { return std::make_unique<widget>(); });
  widgets.add("drop", "", [] { return std::make_unique<widget>(); });
  try {
    widgets.create("gsm8");
    FAIL() << "expected input_error";
  } catch (const input_error& e) {
    EXPECT_STREQ(e.what(), "unknown widget 'gsm8'; did you mean 'gsm8k'? (known: drop, gsm8k)");
  }
}

TEST(Registry, NoSuggestionForUnrelatedName) {
  EXPECT_EQ(nearest_name("citations", {"gsm8k", "drop"}), "");
  EXPECT_EQ(nearest_name("dorp", {"gsm8k", "drop"}), "drop");
  EXPECT_EQ(nearest_name("anything", {}), "");
}

TEST(Registry, BuiltInTasksAndBackEndsAreRegistered) {
  task_registry tasks("task");
  register_tasks(tasks);
  EXPECT_EQ(tasks.names(), (std::vector<std::string>{"citations", "drop", "gsm8k"}));
  backend_registry backends("back end");
  register_backends(backends);
  EXPECT_EQ(backends.names(), (std::vector<std::string>{"gold", "openai", "replay"}));
}

TEST(Registry, ModelSpecWithUnknownSchemeNamesTheNearest) {
  backend_registry backends("back end");
  register_backends(backends);
  try {
    create_backend(backends, "opneai:http://127.0.0.1:1/v1#m", {});
    FAIL() << "expected input_error";
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'openai'?"), std::string::npos) << e.what();
  }
  EXPECT_THROW(create_backend(backends, "no-scheme-here", {}), input_error);
}

}  // namespace
}  // namespace ys
