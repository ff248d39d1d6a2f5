/*
 * Cuts a received byte stream into frames at each 0x00 and decodes them. A malformed frame is
 * counted and dropped, and decoding starts afresh after the next 0x00; a run longer than any
 * frame is discarded up to the next 0x00 and counted once (overflow); an empty frame (two
 * 0x00 in a row) is idle line, not an error. Fixed buffer, no allocation.
 */
#ifndef KM_READER_H
#define KM_READER_H

#include "km_protocol.h"

typedef struct km_reader_stats {
    uint32_t bytes;
    uint32_t frames;    /* valid frames */
    uint32_t malformed; /* dropped frames; the sum of errors[] */
    uint32_t errors[KM_FRAME_ERROR_COUNT]; /* by km_status; errors[KM_OK] stays 0 */
} km_reader_stats;

typedef struct km_reader {
    uint8_t buf[KM_MAX_ENCODED];
    size_t len;
    bool overflowing;
    km_reader_stats stats;
    km_message scratch; /* where frames are decoded; lives here so the caller's stack stays small */
} km_reader;

/*
 * Called once per completed frame: status KM_OK with the message, or the frame error. For
 * errors from KM_ERR_VERSION on, m's type, seq and flags are trustworthy (the CRC held);
 * otherwise m is NULL. The message is only valid during the call.
 */
typedef void (*km_frame_handler)(void *ctx, km_status status, const km_message *m);

void km_reader_init(km_reader *r);
void km_reader_feed(km_reader *r, const uint8_t *data, size_t len, km_frame_handler handler, void *ctx);
/* Forgets a partial frame, e.g. after the line was reset. */
void km_reader_reset(km_reader *r);

#endif /* KM_READER_H */
