/*
 * Frames: body = version, type, seq (u16 LE), flags, payload, CRC (u16 LE), then COBS and 0x00.
 * Decoding checks in the order of km_status (cobs, length, crc, version, flags, type, payload,
 * utf8), the same order as the TypeScript decoder, so both name a malformed frame alike.
 * Payload layouts are in PROTOCOL.md; every multi-byte field is little-endian.
 */
#include "km_codec.h"

#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
    p[2] = (uint8_t)((v >> 16) & 0xFFu);
    p[3] = (uint8_t)(v >> 24);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)(p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static bool device_id_ok(const char *id, size_t len)
{
    size_t i;
    if (len < 1 || len > KM_MAX_DEVICE_ID) return false;
    for (i = 0; i < len; i++) {
        if ((unsigned char)id[i] < 0x20u || (unsigned char)id[i] > 0x7Eu) return false;
    }
    return true;
}

/* Writes the payload of `m` at p (room for KM_MAX_PAYLOAD); returns its length or -1. */
static int encode_payload(const km_message *m, uint8_t *p)
{
    switch (m->type) {
    case KM_MSG_HELLO:
        if (!device_id_ok(m->u.hello.id, m->u.hello.id_len)) return -1;
        p[0] = m->u.hello.protocol;
        p[1] = m->u.hello.fw_major;
        p[2] = m->u.hello.fw_minor;
        p[3] = m->u.hello.fw_patch;
        put32(p + 4, m->u.hello.capabilities);
        p[8] = m->u.hello.id_len;
        memcpy(p + 9, m->u.hello.id, m->u.hello.id_len);
        return 9 + m->u.hello.id_len;
    case KM_MSG_KEY:
        if (m->u.key.down > 1) return -1;
        put16(p, m->u.key.code);
        p[2] = m->u.key.down;
        put32(p + 3, m->u.key.t_us);
        return 7;
    case KM_MSG_GPIO:
        if (m->u.gpio.level > 1) return -1;
        p[0] = m->u.gpio.line;
        p[1] = m->u.gpio.level;
        put32(p + 2, m->u.gpio.t_us);
        return 6;
    case KM_MSG_TEXT:
        if (m->u.text.len > KM_MAX_PAYLOAD || !km_utf8_valid(m->u.text.bytes, m->u.text.len)) return -1;
        memcpy(p, m->u.text.bytes, m->u.text.len);
        return m->u.text.len;
    case KM_MSG_PING:
        put32(p, m->u.ping.token);
        return 4;
    case KM_MSG_PONG:
        put32(p, m->u.pong.token);
        put32(p + 4, m->u.pong.clock_us);
        return 8;
    case KM_MSG_STATUS:
        if (m->u.status.led >= KM_LED_COUNT) return -1;
        p[0] = m->u.status.led;
        return 1;
    case KM_MSG_REPLY:
        if (m->u.reply.len > KM_MAX_REPLY_TEXT ||
            (m->u.reply.chunk_flags & ~(unsigned)(KM_REPLY_FIRST | KM_REPLY_LAST)) != 0 ||
            !km_utf8_valid(m->u.reply.bytes, m->u.reply.len)) {
            return -1;
        }
        put16(p, m->u.reply.reply_id);
        p[2] = m->u.reply.chunk_flags;
        memcpy(p + 3, m->u.reply.bytes, m->u.reply.len);
        return 3 + m->u.reply.len;
    case KM_MSG_ACK:
        put16(p, m->u.ack.seq);
        return 2;
    case KM_MSG_NACK:
        if (m->u.nack.reason < KM_NACK_BUSY || m->u.nack.reason > KM_NACK_NOT_READY) return -1;
        put16(p, m->u.nack.seq);
        p[2] = m->u.nack.reason;
        return 3;
    default:
        return -1;
    }
}

km_status km_frame_encode(const km_message *m, uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t body[KM_MAX_BODY];
    int payload_len;
    size_t body_len;
    size_t blocks;
    km_status st;

    if ((m->flags & KM_FLAGS_RESERVED) != 0) return KM_ERR_ARG;
    payload_len = encode_payload(m, body + KM_HEADER_SIZE);
    if (payload_len < 0) return KM_ERR_ARG;
    body[0] = KM_PROTOCOL_VERSION;
    body[1] = m->type;
    put16(body + 2, m->seq);
    body[4] = m->flags;
    body_len = KM_HEADER_SIZE + (size_t)payload_len;
    put16(body + body_len, km_crc16(body, body_len));
    body_len += KM_CRC_SIZE;

    if (cap < 1) return KM_ERR_ARG;
    st = km_cobs_encode(body, body_len, out, cap - 1, &blocks);
    if (st != KM_OK) return st;
    out[blocks] = 0x00;
    *out_len = blocks + 1;
    return KM_OK;
}

static km_status decode_payload(km_message *m, const uint8_t *p, size_t n)
{
    switch (m->type) {
    case KM_MSG_HELLO: {
        size_t i;
        if (n < 10 || n != 9u + p[8]) return KM_ERR_PAYLOAD;
        if (!device_id_ok((const char *)(p + 9), p[8])) return KM_ERR_PAYLOAD;
        m->u.hello.protocol = p[0];
        m->u.hello.fw_major = p[1];
        m->u.hello.fw_minor = p[2];
        m->u.hello.fw_patch = p[3];
        m->u.hello.capabilities = get32(p + 4);
        m->u.hello.id_len = p[8];
        for (i = 0; i < p[8]; i++) m->u.hello.id[i] = (char)p[9 + i];
        return KM_OK;
    }
    case KM_MSG_KEY:
        if (n != 7 || p[2] > 1) return KM_ERR_PAYLOAD;
        m->u.key.code = get16(p);
        m->u.key.down = p[2];
        m->u.key.t_us = get32(p + 3);
        return KM_OK;
    case KM_MSG_GPIO:
        if (n != 6 || p[1] > 1) return KM_ERR_PAYLOAD;
        m->u.gpio.line = p[0];
        m->u.gpio.level = p[1];
        m->u.gpio.t_us = get32(p + 2);
        return KM_OK;
    case KM_MSG_TEXT:
        if (!km_utf8_valid(p, n)) return KM_ERR_UTF8;
        m->u.text.len = (uint8_t)n;
        memcpy(m->u.text.bytes, p, n);
        return KM_OK;
    case KM_MSG_PING:
        if (n != 4) return KM_ERR_PAYLOAD;
        m->u.ping.token = get32(p);
        return KM_OK;
    case KM_MSG_PONG:
        if (n != 8) return KM_ERR_PAYLOAD;
        m->u.pong.token = get32(p);
        m->u.pong.clock_us = get32(p + 4);
        return KM_OK;
    case KM_MSG_STATUS:
        if (n != 1 || p[0] >= KM_LED_COUNT) return KM_ERR_PAYLOAD;
        m->u.status.led = p[0];
        return KM_OK;
    case KM_MSG_REPLY:
        if (n < 3 || (p[2] & ~(unsigned)(KM_REPLY_FIRST | KM_REPLY_LAST)) != 0) return KM_ERR_PAYLOAD;
        if (!km_utf8_valid(p + 3, n - 3)) return KM_ERR_UTF8;
        m->u.reply.reply_id = get16(p);
        m->u.reply.chunk_flags = p[2];
        m->u.reply.len = (uint8_t)(n - 3);
        memcpy(m->u.reply.bytes, p + 3, n - 3);
        return KM_OK;
    case KM_MSG_ACK:
        if (n != 2) return KM_ERR_PAYLOAD;
        m->u.ack.seq = get16(p);
        return KM_OK;
    case KM_MSG_NACK:
        if (n != 3 || p[2] < KM_NACK_BUSY || p[2] > KM_NACK_NOT_READY) return KM_ERR_PAYLOAD;
        m->u.nack.seq = get16(p);
        m->u.nack.reason = p[2];
        return KM_OK;
    default:
        return KM_ERR_TYPE;
    }
}

km_status km_frame_decode(const uint8_t *encoded, size_t len, km_message *m)
{
    uint8_t body[KM_MAX_BODY];
    size_t body_len;
    size_t crc_at;

    if (len > KM_MAX_ENCODED) return KM_ERR_OVERFLOW;
    /* A frame of at most KM_MAX_ENCODED bytes decodes to at most KM_MAX_BODY, so ARG cannot happen. */
    if (km_cobs_decode(encoded, len, body, sizeof body, &body_len) != KM_OK) return KM_ERR_COBS;
    if (body_len < KM_MIN_BODY) return KM_ERR_LENGTH;
    crc_at = body_len - KM_CRC_SIZE;
    if (get16(body + crc_at) != km_crc16(body, crc_at)) return KM_ERR_CRC;

    m->type = body[1];
    m->seq = get16(body + 2);
    m->flags = body[4];
    if (body[0] != KM_PROTOCOL_VERSION) return KM_ERR_VERSION;
    if ((m->flags & KM_FLAGS_RESERVED) != 0) return KM_ERR_FLAGS;
    return decode_payload(m, body + KM_HEADER_SIZE, crc_at - KM_HEADER_SIZE);
}
