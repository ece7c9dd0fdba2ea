#include "fastattn/status.h"

const char *fa_status_text(fa_status status) {
  switch (status) {
    case FA_OK: return "ok";
    case FA_ERR_INVALID: return "invalid argument";
    case FA_ERR_OVERFLOW: return "size overflows the kernel's index or accumulator types";
    case FA_ERR_WORKSPACE: return "workspace missing or too small";
    case FA_ERR_UNSUPPORTED: return "variant not compiled or not supported by this CPU";
    case FA_ERR_THREADS: return "thread pool could not start";
  }
  return "unknown status";
}
