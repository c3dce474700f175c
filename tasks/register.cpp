#include "tasks/register.h"

#include "tasks/citations.h"
#include "tasks/drop.h"
#include "tasks/gsm8k.h"

namespace ys {

void register_tasks(task_registry& tasks) {
  tasks.add("citations",
            "answers citing numbered passages: ALCE citation recall/precision and correctness",
            make_citations_task);
  tasks.add("drop", "reading comprehension with discrete reasoning, official EM/F1",
            make_drop_task);
  tasks.add("gsm8k", "grade-school math, exact numeric answer (maj@K, pass@K with --samples)",
            make_gsm8k_task);
}

}  // namespace ys
