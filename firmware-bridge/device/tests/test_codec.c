/*
 * Properties of the C codec beyond the shared vectors: random messages survive
 * encode/decode unchanged, random bytes never upset the decoder (and whatever it accepts
 * re-encodes to the very same bytes), and the helpers' edge cases.
 */
#include "../km_codec.h"
#include "../km_reader.h"
#include "check.h"

#include <string.h>

/* xorshift32: a fixed seed makes every run test the same cases. */
static uint32_t rng_state = 0x2545F491u;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}
static uint32_t below(uint32_t n)
{
    return rnd() % n;
}

/* Random valid UTF-8 of at most max bytes: a mix of 1- to 4-byte characters. */
static uint8_t random_utf8(uint8_t *out, size_t max)
{
    size_t n = 0;
    size_t target = below((uint32_t)max + 1u);
    while (n < target) {
        uint32_t cp;
        switch (below(4)) {
        case 0: cp = below(0x80); break;
        case 1: cp = 0x80 + below(0x800 - 0x80); break;
        case 2: cp = 0x800 + below(0xD800 - 0x800); break;
        default: cp = 0x10000 + below(0x110000 - 0x10000); break;
        }
        if (cp < 0x80) {
            if (n + 1 > target) break;
            out[n++] = (uint8_t)cp;
        } else if (cp < 0x800) {
            if (n + 2 > target) break;
            out[n++] = (uint8_t)(0xC0 | (cp >> 6));
            out[n++] = (uint8_t)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            if (n + 3 > target) break;
            out[n++] = (uint8_t)(0xE0 | (cp >> 12));
            out[n++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            out[n++] = (uint8_t)(0x80 | (cp & 0x3F));
        } else {
            if (n + 4 > target) break;
            out[n++] = (uint8_t)(0xF0 | (cp >> 18));
            out[n++] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
            out[n++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            out[n++] = (uint8_t)(0x80 | (cp & 0x3F));
        }
    }
    return (uint8_t)n;
}

static void random_message(km_message *m)
{
    memset(m, 0, sizeof *m);
    m->type = (uint8_t)(1 + below(10));
    m->seq = (uint16_t)rnd();
    m->flags = (uint8_t)below(4);
    switch (m->type) {
    case KM_MSG_HELLO: {
        uint8_t i;
        m->u.hello.protocol = (uint8_t)rnd();
        m->u.hello.fw_major = (uint8_t)rnd();
        m->u.hello.fw_minor = (uint8_t)rnd();
        m->u.hello.fw_patch = (uint8_t)rnd();
        m->u.hello.capabilities = rnd();
        m->u.hello.id_len = (uint8_t)(1 + below(KM_MAX_DEVICE_ID));
        for (i = 0; i < m->u.hello.id_len; i++) m->u.hello.id[i] = (char)(0x20 + below(0x5F));
        break;
    }
    case KM_MSG_KEY:
        m->u.key.code = (uint16_t)rnd();
        m->u.key.down = (uint8_t)below(2);
        m->u.key.t_us = rnd();
        break;
    case KM_MSG_GPIO:
        m->u.gpio.line = (uint8_t)rnd();
        m->u.gpio.level = (uint8_t)below(2);
        m->u.gpio.t_us = rnd();
        break;
    case KM_MSG_TEXT:
        m->u.text.len = random_utf8(m->u.text.bytes, KM_MAX_PAYLOAD);
        break;
    case KM_MSG_PING:
        m->u.ping.token = rnd();
        break;
    case KM_MSG_PONG:
        m->u.pong.token = rnd();
        m->u.pong.clock_us = rnd();
        break;
    case KM_MSG_STATUS:
        m->u.status.led = (uint8_t)below(KM_LED_COUNT);
        break;
    case KM_MSG_REPLY:
        m->u.reply.reply_id = (uint16_t)rnd();
        m->u.reply.chunk_flags = (uint8_t)below(4);
        m->u.reply.len = random_utf8(m->u.reply.bytes, KM_MAX_REPLY_TEXT);
        break;
    case KM_MSG_ACK:
        m->u.ack.seq = (uint16_t)rnd();
        break;
    default:
        m->u.nack.seq = (uint16_t)rnd();
        m->u.nack.reason = (uint8_t)(1 + below(4));
        break;
    }
}

static void test_round_trip(void)
{
    int i;
    for (i = 0; i < 50000; i++) {
        km_message m, back;
        uint8_t frame[KM_MAX_FRAME], again[KM_MAX_FRAME];
        size_t n = 0, n2 = 0;
        random_message(&m);
        CHECK(km_frame_encode(&m, frame, sizeof frame, &n) == KM_OK);
        CHECK(n <= KM_MAX_FRAME && frame[n - 1] == 0 && memchr(frame, 0, n - 1) == NULL);
        memset(&back, 0xAA, sizeof back);
        CHECK(km_frame_decode(frame, n - 1, &back) == KM_OK);
        CHECK(km_frame_encode(&back, again, sizeof again, &n2) == KM_OK && n2 == n && memcmp(frame, again, n) == 0);
        if (check_failures > 0) return;
    }
}

static void test_random_bytes(void)
{
    int i;
    int accepted = 0;
    for (i = 0; i < 200000; i++) {
        uint8_t bytes[KM_MAX_ENCODED + 4];
        size_t n = below(sizeof bytes), k;
        km_message m;
        km_status st;
        for (k = 0; k < n; k++) bytes[k] = (uint8_t)(1 + below(255)); /* no 0x00 inside a frame */
        /* Give the decoder a fair chance: sometimes a valid frame with some bytes changed. */
        if (i % 2 == 0) {
            km_message src;
            size_t len = 0;
            random_message(&src);
            if (km_frame_encode(&src, bytes, sizeof bytes, &len) == KM_OK) {
                n = len - 1;
                if (n > 0) bytes[below((uint32_t)n)] = (uint8_t)(1 + below(255));
            }
        }
        st = km_frame_decode(bytes, n, &m);
        CHECK(st <= KM_ERR_UTF8);
        if (st == KM_OK) {
            uint8_t again[KM_MAX_FRAME];
            size_t n2 = 0;
            accepted++;
            CHECK(km_frame_encode(&m, again, sizeof again, &n2) == KM_OK && n2 == n + 1 && memcmp(bytes, again, n) == 0);
        }
    }
    /* About 1 in 255 mutations rewrites a byte with its own value; those frames must pass. */
    CHECK(accepted > 0);
}

static void test_utf8(void)
{
    static const uint8_t euro[] = {0x61, 0xE2, 0x82, 0xAC, 0x62}; /* a€b */
    static const uint8_t max_cp[] = {0xF4, 0x8F, 0xBF, 0xBF};    /* U+10FFFF */
    static const uint8_t bom[] = {0xEF, 0xBB, 0xBF};
    CHECK(km_utf8_valid(euro, sizeof euro));
    CHECK(km_utf8_valid(max_cp, sizeof max_cp));
    CHECK(km_utf8_valid(bom, sizeof bom));
    CHECK(km_utf8_valid(NULL, 0));
    CHECK(km_utf8_prefix(euro, 5, 10) == 5);
    CHECK(km_utf8_prefix(euro, 5, 4) == 4);
    CHECK(km_utf8_prefix(euro, 5, 3) == 1); /* never cuts the euro sign */
    CHECK(km_utf8_prefix(euro, 5, 2) == 1);
    CHECK(km_utf8_prefix(euro, 5, 1) == 1);
    CHECK(km_utf8_prefix(euro, 5, 0) == 0);
}

static void test_encode_rejects(void)
{
    km_message m;
    uint8_t out[KM_MAX_FRAME];
    size_t n;
    memset(&m, 0, sizeof m);
    m.type = KM_MSG_STATUS;
    m.u.status.led = KM_LED_COUNT;
    CHECK(km_frame_encode(&m, out, sizeof out, &n) == KM_ERR_ARG);
    m.u.status.led = KM_LED_ERROR;
    m.flags = 0x80;
    CHECK(km_frame_encode(&m, out, sizeof out, &n) == KM_ERR_ARG);
    m.flags = 0;
    CHECK(km_frame_encode(&m, out, 5, &n) == KM_ERR_ARG); /* buffer too small */
    CHECK(km_frame_encode(&m, out, sizeof out, &n) == KM_OK);
    m.type = 0x0B;
    CHECK(km_frame_encode(&m, out, sizeof out, &n) == KM_ERR_ARG);
    memset(&m, 0, sizeof m);
    m.type = KM_MSG_HELLO;
    m.u.hello.id_len = 0;
    CHECK(km_frame_encode(&m, out, sizeof out, &n) == KM_ERR_ARG);
    m.u.hello.id_len = 1;
    m.u.hello.id[0] = '\n';
    CHECK(km_frame_encode(&m, out, sizeof out, &n) == KM_ERR_ARG);
    memset(&m, 0, sizeof m);
    m.type = KM_MSG_TEXT;
    m.u.text.len = 1;
    m.u.text.bytes[0] = 0xFF;
    CHECK(km_frame_encode(&m, out, sizeof out, &n) == KM_ERR_ARG);
    m.type = KM_MSG_NACK;
    m.u.nack.reason = 0;
    CHECK(km_frame_encode(&m, out, sizeof out, &n) == KM_ERR_ARG);
}

static void test_cobs_limits(void)
{
    uint8_t src[600], dst[600];
    size_t n;
    memset(src, 0x11, sizeof src);
    CHECK(km_cobs_encode(src, 508, dst, 510, &n) == KM_ERR_ARG); /* needs 508 + 2 + 1 */
    CHECK(km_cobs_encode(src, 508, dst, 511, &n) == KM_OK && n == 510); /* two full blocks, no third */
    CHECK(km_cobs_decode(dst, n, src, 507, &n) == KM_ERR_ARG); /* output would not fit */
}

static void count_only(void *ctx, km_status st, const km_message *m)
{
    (void)st;
    (void)m;
    (*(int *)ctx)++;
}

static void test_reader_overflow_and_idle(void)
{
    km_reader r;
    uint8_t run[1000];
    int calls = 0;
    km_reader_init(&r);
    memset(run, 0x33, sizeof run);
    km_reader_feed(&r, (const uint8_t *)"\0\0\0", 3, count_only, &calls);
    CHECK(calls == 0 && r.stats.malformed == 0);
    km_reader_feed(&r, run, sizeof run, count_only, &calls);
    km_reader_feed(&r, run, sizeof run, count_only, &calls);
    CHECK(calls == 0);
    km_reader_feed(&r, (const uint8_t *)"\0", 1, count_only, &calls);
    CHECK(calls == 1 && r.stats.errors[KM_ERR_OVERFLOW] == 1 && r.stats.malformed == 1);
    CHECK(r.stats.bytes == 2004);
}

int main(void)
{
    test_round_trip();
    test_random_bytes();
    test_utf8();
    test_encode_rejects();
    test_cobs_limits();
    test_reader_overflow_and_idle();
    return check_report("test_codec");
}
