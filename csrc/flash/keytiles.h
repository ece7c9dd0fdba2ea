/* Key tiles of the int8 engine (flash/i8.h) over a list of key ranges: the keys of the
 * ranges (sorted, disjoint), one after the other, cut every FA_I8_NK keys from the first,
 * as reference/sparse_int8.py (key_tiles) defines them. A tile may so hold keys of several
 * ranges, its pieces: block-sparse layouts of 64-key blocks fill 128-key tiles with two
 * listed blocks. Dense attention is one range, so its tiles are one piece each. */
#ifndef FASTATTN_FLASH_KEYTILES_H
#define FASTATTN_FLASH_KEYTILES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fastattn/tiles.h" /* FA_I8_NK */
#include "flash/f32.h"       /* fa_range */

typedef struct fa_key_tile {
  size_t n, npieces;          /* keys, pieces */
  fa_range piece[FA_I8_NK];   /* in increasing key order, none empty */
} fa_key_tile;

/* Where the next tile starts: key `next` of range `r`. */
typedef struct fa_key_cursor {
  const fa_range *ranges;
  size_t nranges, r, next;
} fa_key_cursor;

static inline fa_key_cursor fa_key_cursor_start(const fa_range *ranges, size_t nranges) {
  fa_key_cursor c = {ranges, nranges, 0, 0};
  return c;
}

/* The next tile into t, keys from `stop` on dropped (the engine passes the end of what its
 * rows can see, so a dropped key changes no sum); 0 when no key is left. */
static inline int fa_key_next_tile(fa_key_cursor *c, size_t stop, fa_key_tile *t) {
  t->n = t->npieces = 0;
  while (t->n < FA_I8_NK && c->r < c->nranges) {
    const fa_range *g = c->ranges + c->r;
    const size_t begin = c->next > g->begin ? c->next : g->begin;
    const size_t end = g->end < stop ? g->end : stop;
    if (begin >= end) {
      if (g->end > stop) break; /* at stop: nothing after it is kept */
      c->r++;
      continue;
    }
    const size_t take = end - begin < FA_I8_NK - t->n ? end - begin : FA_I8_NK - t->n;
    t->piece[t->npieces].begin = begin;
    t->piece[t->npieces].end = begin + take;
    t->npieces++;
    t->n += take;
    c->next = begin + take;
    if (c->next == g->end) c->r++;
  }
  return t->n > 0;
}

/* The tile's first and last key. */
static inline size_t fa_key_tile_first(const fa_key_tile *t) { return t->piece[0].begin; }
static inline size_t fa_key_tile_last(const fa_key_tile *t) {
  return t->piece[t->npieces - 1].end - 1;
}

/* Copies the tile's rows of x (rows rs apart, w bytes each) to dst, one after the other. */
static inline void fa_key_tile_gather(const int8_t *x, ptrdiff_t rs, size_t w,
                                      const fa_key_tile *t, int8_t *dst) {
  for (size_t e = 0; e < t->npieces; e++) {
    const size_t len = t->piece[e].end - t->piece[e].begin;
    const int8_t *src = x + (ptrdiff_t)t->piece[e].begin * rs;
    if (rs == (ptrdiff_t)w) {
      memcpy(dst, src, len * w);
    } else {
      for (size_t j = 0; j < len; j++) memcpy(dst + j * w, src + (ptrdiff_t)j * rs, w);
    }
    dst += len * w;
  }
}

#endif
