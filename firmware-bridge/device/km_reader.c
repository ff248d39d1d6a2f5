/* Frame reassembly; see km_reader.h. */
#include "km_reader.h"

#include "km_codec.h"

#include <string.h>

void km_reader_init(km_reader *r)
{
    memset(r, 0, sizeof *r);
}

void km_reader_reset(km_reader *r)
{
    r->len = 0;
    r->overflowing = false;
}

static void finish_frame(km_reader *r, km_frame_handler handler, void *ctx)
{
    km_status st;
    if (r->overflowing) {
        st = KM_ERR_OVERFLOW;
    } else if (r->len == 0) {
        return; /* idle 0x00 */
    } else {
        st = km_frame_decode(r->buf, r->len, &r->scratch);
    }
    km_reader_reset(r);
    if (st == KM_OK) {
        r->stats.frames++;
    } else {
        r->stats.malformed++;
        r->stats.errors[st]++;
    }
    handler(ctx, st, st == KM_OK || st >= KM_ERR_VERSION ? &r->scratch : NULL);
}

void km_reader_feed(km_reader *r, const uint8_t *data, size_t len, km_frame_handler handler, void *ctx)
{
    size_t i;
    r->stats.bytes += (uint32_t)len;
    for (i = 0; i < len; i++) {
        uint8_t b = data[i];
        if (b == 0x00) {
            finish_frame(r, handler, ctx);
        } else if (!r->overflowing) {
            if (r->len == sizeof r->buf) {
                r->overflowing = true;
            } else {
                r->buf[r->len++] = b;
            }
        }
    }
}
