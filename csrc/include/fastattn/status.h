/* Status codes returned by every fastattn C entry point (declared in fastattn/status.def). */
#ifndef FASTATTN_STATUS_H
#define FASTATTN_STATUS_H

typedef enum fa_status {
#define FA_STATUS(name, text) FA_##name,
#include "fastattn/status.def"
#undef FA_STATUS
  FA_STATUS_COUNT
} fa_status;

/* "FA_ERR_SHAPE", ... ("FA_UNKNOWN" outside the enum). */
const char *fa_status_name(fa_status status);
/* A sentence for the user. */
const char *fa_status_text(fa_status status);

#endif
