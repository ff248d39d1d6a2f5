/*
 * Runs the shared vectors (firmware-bridge/vectors/frames.json) against the C codec: every
 * frame must decode to its stated meaning and that meaning must encode to the same bytes,
 * every malformed frame must fail with the stated error, and every stream must yield the
 * stated results through km_reader. The TypeScript suite runs the same file.
 */
#include "../km_codec.h"
#include "../km_reader.h"
#include "check.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {"", "hello", "key", "gpio", "text", "ping", "pong", "status", "reply", "ack", "nack"};
static const char *const led_names[] = {"idle", "listening", "thinking", "replying", "error"};
static const char *const nack_names[] = {"", "busy", "unsupported-type", "bad-payload", "not-ready"};

static int index_of(const char *const *names, size_t n, const json *s)
{
    size_t i;
    if (!s || s->type != JSON_STRING) return -1;
    for (i = 0; i < n; i++) {
        if (strcmp(names[i], s->string) == 0) return (int)i;
    }
    return -1;
}

static size_t from_hex(const json *s, uint8_t *out, size_t cap)
{
    size_t i, n;
    if (!s || s->type != JSON_STRING || s->length % 2 != 0 || s->length / 2 > cap) {
        fprintf(stderr, "bad hex field\n");
        exit(2);
    }
    n = s->length / 2;
    for (i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s->string + 2 * i, "%2x", &v) != 1) {
            fprintf(stderr, "bad hex digit\n");
            exit(2);
        }
        out[i] = (uint8_t)v;
    }
    return n;
}

static double num(const json *obj, const char *key)
{
    const json *v = json_get(obj, key);
    if (!v || v->type != JSON_NUMBER) {
        fprintf(stderr, "missing number \"%s\"\n", key);
        exit(2);
    }
    return v->number;
}

static bool flag(const json *obj, const char *key)
{
    const json *v = json_get(obj, key);
    if (!v || v->type != JSON_BOOL) {
        fprintf(stderr, "missing boolean \"%s\"\n", key);
        exit(2);
    }
    return v->boolean;
}

static const json *str(const json *obj, const char *key)
{
    const json *v = json_get(obj, key);
    if (!v || v->type != JSON_STRING) {
        fprintf(stderr, "missing string \"%s\"\n", key);
        exit(2);
    }
    return v;
}

/* The km_message a vector's "message" object describes. */
static void message_from_json(const json *j, km_message *m)
{
    int type = index_of(type_names, sizeof type_names / sizeof *type_names, json_get(j, "type"));
    memset(m, 0, sizeof *m);
    CHECK(type > 0);
    m->type = (uint8_t)type;
    m->seq = (uint16_t)num(j, "seq");
    m->flags = (uint8_t)((flag(j, "ackRequested") ? KM_FLAG_ACK_REQUESTED : 0u) |
                         (flag(j, "retransmit") ? KM_FLAG_RETRANSMIT : 0u));
    switch (type) {
    case KM_MSG_HELLO: {
        unsigned a, b, c;
        const json *id = str(j, "deviceId");
        CHECK(sscanf(str(j, "firmware")->string, "%u.%u.%u", &a, &b, &c) == 3);
        m->u.hello.protocol = (uint8_t)num(j, "protocol");
        m->u.hello.fw_major = (uint8_t)a;
        m->u.hello.fw_minor = (uint8_t)b;
        m->u.hello.fw_patch = (uint8_t)c;
        m->u.hello.capabilities = (uint32_t)num(j, "capabilities");
        CHECK(id->length <= KM_MAX_DEVICE_ID);
        m->u.hello.id_len = (uint8_t)id->length;
        memcpy(m->u.hello.id, id->string, id->length);
        break;
    }
    case KM_MSG_KEY:
        m->u.key.code = (uint16_t)num(j, "code");
        m->u.key.down = strcmp(str(j, "state")->string, "down") == 0;
        m->u.key.t_us = (uint32_t)num(j, "tDeviceUs");
        break;
    case KM_MSG_GPIO:
        m->u.gpio.line = (uint8_t)num(j, "line");
        m->u.gpio.level = (uint8_t)num(j, "level");
        m->u.gpio.t_us = (uint32_t)num(j, "tDeviceUs");
        break;
    case KM_MSG_TEXT: {
        const json *t = str(j, "text");
        CHECK(t->length <= KM_MAX_PAYLOAD);
        m->u.text.len = (uint8_t)t->length;
        memcpy(m->u.text.bytes, t->string, t->length);
        break;
    }
    case KM_MSG_PING:
        m->u.ping.token = (uint32_t)num(j, "token");
        break;
    case KM_MSG_PONG:
        m->u.pong.token = (uint32_t)num(j, "token");
        m->u.pong.clock_us = (uint32_t)num(j, "clockUs");
        break;
    case KM_MSG_STATUS: {
        int led = index_of(led_names, KM_LED_COUNT, json_get(j, "led"));
        CHECK(led >= 0);
        m->u.status.led = (uint8_t)led;
        break;
    }
    case KM_MSG_REPLY: {
        const json *t = str(j, "text");
        CHECK(t->length <= KM_MAX_REPLY_TEXT);
        m->u.reply.reply_id = (uint16_t)num(j, "replyId");
        m->u.reply.chunk_flags = (uint8_t)((flag(j, "first") ? KM_REPLY_FIRST : 0u) | (flag(j, "last") ? KM_REPLY_LAST : 0u));
        m->u.reply.len = (uint8_t)t->length;
        memcpy(m->u.reply.bytes, t->string, t->length);
        break;
    }
    case KM_MSG_ACK:
        m->u.ack.seq = (uint16_t)num(j, "ackSeq");
        break;
    case KM_MSG_NACK: {
        int reason = index_of(nack_names, sizeof nack_names / sizeof *nack_names, json_get(j, "reason"));
        CHECK(reason > 0);
        m->u.nack.seq = (uint16_t)num(j, "ackSeq");
        m->u.nack.reason = (uint8_t)reason;
        break;
    }
    default:
        break;
    }
}

/* Field by field: the union's padding is not part of the meaning. */
static bool messages_equal(const km_message *a, const km_message *b)
{
    if (a->type != b->type || a->seq != b->seq || a->flags != b->flags) return false;
    switch (a->type) {
    case KM_MSG_HELLO:
        return a->u.hello.protocol == b->u.hello.protocol && a->u.hello.fw_major == b->u.hello.fw_major &&
               a->u.hello.fw_minor == b->u.hello.fw_minor && a->u.hello.fw_patch == b->u.hello.fw_patch &&
               a->u.hello.capabilities == b->u.hello.capabilities && a->u.hello.id_len == b->u.hello.id_len &&
               memcmp(a->u.hello.id, b->u.hello.id, a->u.hello.id_len) == 0;
    case KM_MSG_KEY:
        return a->u.key.code == b->u.key.code && a->u.key.down == b->u.key.down && a->u.key.t_us == b->u.key.t_us;
    case KM_MSG_GPIO:
        return a->u.gpio.line == b->u.gpio.line && a->u.gpio.level == b->u.gpio.level && a->u.gpio.t_us == b->u.gpio.t_us;
    case KM_MSG_TEXT:
        return a->u.text.len == b->u.text.len && memcmp(a->u.text.bytes, b->u.text.bytes, a->u.text.len) == 0;
    case KM_MSG_PING:
        return a->u.ping.token == b->u.ping.token;
    case KM_MSG_PONG:
        return a->u.pong.token == b->u.pong.token && a->u.pong.clock_us == b->u.pong.clock_us;
    case KM_MSG_STATUS:
        return a->u.status.led == b->u.status.led;
    case KM_MSG_REPLY:
        return a->u.reply.reply_id == b->u.reply.reply_id && a->u.reply.chunk_flags == b->u.reply.chunk_flags &&
               a->u.reply.len == b->u.reply.len && memcmp(a->u.reply.bytes, b->u.reply.bytes, a->u.reply.len) == 0;
    case KM_MSG_ACK:
        return a->u.ack.seq == b->u.ack.seq;
    case KM_MSG_NACK:
        return a->u.nack.seq == b->u.nack.seq && a->u.nack.reason == b->u.nack.reason;
    default:
        return false;
    }
}

static const char *name_of(const json *v)
{
    const json *n = json_get(v, "name");
    return n && n->type == JSON_STRING ? n->string : "?";
}

static const json *section(const json *root, const char *key)
{
    const json *s = json_get(root, key);
    if (!s || s->type != JSON_ARRAY || s->count == 0) {
        fprintf(stderr, "vectors: section \"%s\" missing or empty\n", key);
        exit(2);
    }
    return s;
}

static void run_crc(const json *root)
{
    const json *s = section(root, "crc16");
    size_t i;
    for (i = 0; i < s->count; i++) {
        uint8_t data[64];
        size_t n = from_hex(json_get(&s->items[i], "data"), data, sizeof data);
        CHECK_MSG(km_crc16(data, n) == (uint16_t)num(&s->items[i], "crc"), "%s", name_of(&s->items[i]));
    }
}

static void run_cobs(const json *root)
{
    const json *s = section(root, "cobs");
    size_t i;
    for (i = 0; i < s->count; i++) {
        const json *v = &s->items[i];
        uint8_t data[300], encoded[300], out[300];
        size_t n = from_hex(json_get(v, "data"), data, sizeof data);
        size_t e = from_hex(json_get(v, "encoded"), encoded, sizeof encoded);
        size_t got = 0;
        CHECK_MSG(km_cobs_encode(data, n, out, sizeof out, &got) == KM_OK && got == e && memcmp(out, encoded, e) == 0,
                  "encode %s", name_of(v));
        CHECK_MSG(km_cobs_decode(encoded, e, out, sizeof out, &got) == KM_OK && got == n && memcmp(out, data, n) == 0,
                  "decode %s", name_of(v));
    }
}

static void run_frames(const json *root)
{
    const json *s = section(root, "frames");
    size_t i;
    for (i = 0; i < s->count; i++) {
        const json *v = &s->items[i];
        uint8_t frame[KM_MAX_FRAME + 8], out[KM_MAX_FRAME];
        size_t n = from_hex(json_get(v, "frame"), frame, sizeof frame);
        km_message expected, decoded;
        size_t out_len = 0;
        km_status st;
        message_from_json(json_get(v, "message"), &expected);
        CHECK_MSG(n >= 2 && frame[n - 1] == 0, "%s: frame must end in 00", name_of(v));
        st = km_frame_decode(frame, n - 1, &decoded);
        CHECK_MSG(st == KM_OK, "%s: decode says %s", name_of(v), km_status_name(st));
        CHECK_MSG(st == KM_OK && messages_equal(&decoded, &expected), "%s: decoded meaning differs", name_of(v));
        st = km_frame_encode(&expected, out, sizeof out, &out_len);
        CHECK_MSG(st == KM_OK && out_len == n && memcmp(out, frame, n) == 0, "%s: encoding differs (%s)", name_of(v),
                  km_status_name(st));
    }
}

static void run_malformed(const json *root)
{
    const json *s = section(root, "malformed");
    size_t i;
    for (i = 0; i < s->count; i++) {
        const json *v = &s->items[i];
        uint8_t frame[1024];
        size_t n = from_hex(json_get(v, "frame"), frame, sizeof frame);
        km_message m;
        km_status st = km_frame_decode(frame, n - 1, &m);
        const char *want = str(v, "error")->string;
        CHECK_MSG(strcmp(km_status_name(st), want) == 0, "%s: got %s, want %s", name_of(v), km_status_name(st), want);
    }
}

typedef struct collected {
    size_t count;
    km_status status[16];
    km_message message[16];
} collected;

static void collect(void *ctx, km_status st, const km_message *m)
{
    collected *c = (collected *)ctx;
    if (c->count < 16) {
        c->status[c->count] = st;
        if (st == KM_OK) c->message[c->count] = *m;
    }
    c->count++;
}

static void run_streams(const json *root)
{
    const json *s = section(root, "streams");
    size_t i, k, split;
    for (i = 0; i < s->count; i++) {
        const json *v = &s->items[i];
        const json *results = json_get(v, "results");
        static uint8_t bytes[4096];
        size_t n = from_hex(json_get(v, "bytes"), bytes, sizeof bytes);
        /* The same stream fed whole and cut at every position must give the same results. */
        for (split = 0; split <= n; split += (split == 0 ? 1 : (n / 7 + 1))) {
            km_reader reader;
            collected c;
            memset(&c, 0, sizeof c);
            km_reader_init(&reader);
            km_reader_feed(&reader, bytes, split, collect, &c);
            km_reader_feed(&reader, bytes + split, n - split, collect, &c);
            CHECK_MSG(c.count == results->count, "%s: %zu results, want %zu", name_of(v), c.count, results->count);
            for (k = 0; k < c.count && k < results->count && k < 16; k++) {
                const json *want = &results->items[k];
                const json *error = json_get(want, "error");
                if (error) {
                    CHECK_MSG(strcmp(km_status_name(c.status[k]), error->string) == 0, "%s: result %zu is %s, want %s",
                              name_of(v), k, km_status_name(c.status[k]), error->string);
                } else {
                    km_message expected;
                    message_from_json(json_get(want, "message"), &expected);
                    CHECK_MSG(c.status[k] == KM_OK && messages_equal(&c.message[k], &expected), "%s: result %zu differs",
                              name_of(v), k);
                }
            }
            CHECK(reader.stats.malformed + reader.stats.frames == c.count);
        }
    }
}

int main(int argc, char **argv)
{
    FILE *f;
    static char text[1 << 20];
    size_t len;
    char err[128];
    json *root;
    if (argc != 2) {
        fprintf(stderr, "usage: test_vectors firmware-bridge/vectors/frames.json\n");
        return 2;
    }
    f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    len = fread(text, 1, sizeof text, f);
    fclose(f);
    root = json_parse(text, len, err, sizeof err);
    if (!root) {
        fprintf(stderr, "%s: %s\n", argv[1], err);
        return 2;
    }
    run_crc(root);
    run_cobs(root);
    run_frames(root);
    run_malformed(root);
    run_streams(root);
    json_free(root);
    return check_report("test_vectors");
}
