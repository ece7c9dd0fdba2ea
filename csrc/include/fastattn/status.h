/* Status codes returned by every fastattn C entry point. */
#ifndef FASTATTN_STATUS_H
#define FASTATTN_STATUS_H

typedef enum fa_status {
  FA_OK = 0,
  FA_ERR_INVALID = 1,     /* an argument is out of range or inconsistent */
  FA_ERR_OVERFLOW = 2,    /* a size would overflow the kernel's index or accumulator types */
  FA_ERR_WORKSPACE = 3,   /* the workspace is missing or smaller than required */
  FA_ERR_UNSUPPORTED = 4, /* the requested variant was not compiled or the CPU lacks it */
  FA_ERR_THREADS = 5      /* the thread pool could not start its workers */
} fa_status;

const char *fa_status_text(fa_status status);

#endif
