/* Tile sizes of the flash engines, declared once: the engines (flash/f32.h, flash/i8.h) tile by them,
 * _core exports them (_core.TILES) and the tests derive their edge lengths from them. */
#ifndef FASTATTN_TILES_H
#define FASTATTN_TILES_H

#define FA_F32_MQ 144 /* float32: query rows per block (one dense job) */
#define FA_F32_NK 128 /* float32: keys per tile */
#define FA_I8_MQ 256  /* int8: query rows per job (one dense job); each key tile is packed once for them */
#define FA_I8_MB 64   /* int8: query rows per sub-block (the rows of the score buffers) */
#define FA_I8_NK 128  /* int8: keys per tile; the int32 accumulators are flushed every tile */

#endif
