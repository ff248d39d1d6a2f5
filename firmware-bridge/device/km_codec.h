/*
 * Byte-level coding: CRC-16/CCITT-FALSE, COBS, strict UTF-8, and whole frames.
 * All functions are pure and work on caller-owned buffers.
 */
#ifndef KM_CODEC_H
#define KM_CODEC_H

#include "km_protocol.h"

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection; crc("123456789") = 0x29B1. */
uint16_t km_crc16(const uint8_t *data, size_t len);

/* COBS blocks of `len` bytes into dst (no delimiter); KM_ERR_ARG if `cap` is too small. */
km_status km_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *out_len);
/* Decodes one frame's blocks (delimiter removed); KM_ERR_COBS if malformed, KM_ERR_ARG if dst is small. */
km_status km_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *out_len);

/* True when the bytes are strict UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
bool km_utf8_valid(const uint8_t *s, size_t len);
/* The longest prefix of valid UTF-8 `s` of at most `max` bytes that ends between characters. */
size_t km_utf8_prefix(const uint8_t *s, size_t len, size_t max);

/*
 * Encodes `m` as it goes on the wire (COBS blocks and the 0x00) into out, which should hold
 * KM_MAX_FRAME bytes. KM_ERR_ARG when a field is out of range or the buffer is too small.
 */
km_status km_frame_encode(const km_message *m, uint8_t *out, size_t cap, size_t *out_len);

/*
 * Decodes one frame as received, without its 0x00. Checks run in the order of km_status, and
 * the first failure is returned. From KM_ERR_VERSION on, the CRC held, so m->type, m->seq and
 * m->flags are filled in and may be trusted (for a NACK); otherwise *m is unspecified.
 */
km_status km_frame_decode(const uint8_t *encoded, size_t len, km_message *m);

#endif /* KM_CODEC_H */
