#pragma once

#include "harness/registry.h"
#include "harness/task.h"

namespace ys {

using task_registry = registry<task, const task_options&>;

// Adds every built-in task ("gsm8k") to `tasks`.
void register_tasks(task_registry& tasks);

}  // namespace ys
