/*
 * COBS (Cheshire & Baker): each block is a code byte n and n-1 data bytes; a block with n < 0xFF
 * stands for its data and one zero, except the last, whose zero is the end of the data. A full
 * block (n = 0xFF) carries no zero, so 254 non-zero bytes encode to 255, not 256.
 */
#include "km_codec.h"

km_status km_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *out_len)
{
    size_t code_at = 0;
    size_t o = 1;
    uint8_t code = 1;
    size_t i;
    /* Worst case n + n/254 + 1; checked up front so the loop needs no bounds tests. */
    if (cap < len + len / 254u + 1u) {
        return KM_ERR_ARG;
    }
    for (i = 0; i < len; i++) {
        if (src[i] == 0) {
            dst[code_at] = code;
            code_at = o++;
            code = 1;
            continue;
        }
        dst[o++] = src[i];
        code++;
        if (code == 0xFF && i + 1 < len) {
            dst[code_at] = code;
            code_at = o++;
            code = 1;
        }
    }
    dst[code_at] = code;
    *out_len = o;
    return KM_OK;
}

km_status km_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *out_len)
{
    size_t i = 0;
    size_t o = 0;
    while (i < len) {
        uint8_t code = src[i];
        size_t end = i + code;
        size_t j;
        if (code == 0 || end > len) {
            return KM_ERR_COBS;
        }
        for (j = i + 1; j < end; j++) {
            if (src[j] == 0) {
                return KM_ERR_COBS;
            }
            if (o == cap) {
                return KM_ERR_ARG;
            }
            dst[o++] = src[j];
        }
        i = end;
        if (code != 0xFF && i < len) {
            if (o == cap) {
                return KM_ERR_ARG;
            }
            dst[o++] = 0;
        }
    }
    *out_len = o;
    return KM_OK;
}
