/* What every op's variant table holds: one job shape for every op and dtype.
 *
 * A job is query rows [q0, q1) of one (batch b, head h); the driver (common/driver.c)
 * makes the jobs, sizes the workspace and runs them on the pool. Each op's
 * <op>/dispatch-<dtype>.c lists its variants (see common/variants.h). */
#ifndef FASTATTN_VARIANT_H
#define FASTATTN_VARIANT_H

#include <stddef.h>
#include "fastattn/cpu.h"
#include "fastattn/status.h"

typedef struct fa_job {
  size_t b, h, q0, q1;
} fa_job;

/* params: the op's params struct; workspace: this thread's slice. */
typedef fa_status (*fa_job_fn)(const void *params, const fa_job *job, void *workspace);

typedef struct fa_variant {
  const char *name; /* "<dtype>-<isa>", e.g. "i8-neondot" */
  fa_isa isa;
  fa_job_fn job;
} fa_variant;

/* Index of the first (best) variant of table[0..n) this CPU runs with no ISA above `cap`;
 * the last entry (scalar) when none. */
size_t fa_variant_pick(const fa_variant *table, size_t n, fa_isa cap);

#endif
