#include "fastattn/status.h"

static const char *const names[] = {
#define FA_STATUS(name, text) "FA_" #name,
#include "fastattn/status.def"
#undef FA_STATUS
};

static const char *const texts[] = {
#define FA_STATUS(name, text) text,
#include "fastattn/status.def"
#undef FA_STATUS
};

const char *fa_status_name(fa_status status) {
  return status >= 0 && status < FA_STATUS_COUNT ? names[status] : "FA_UNKNOWN";
}

const char *fa_status_text(fa_status status) {
  return status >= 0 && status < FA_STATUS_COUNT ? texts[status] : "unknown status";
}
