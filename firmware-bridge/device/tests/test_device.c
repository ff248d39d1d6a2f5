/*
 * The device state machine against a scripted host: handshake, events and their ACKs,
 * retransmission and giving up, duplicates, NACKs, the host timeout, and line noise.
 * The "USB" is two buffers and the clock is a variable the test moves.
 */
#include "../km_codec.h"
#include "../km_device.h"
#include "check.h"

#include <string.h>

#define MAX_SEEN 64

typedef struct fake {
    uint32_t now;
    bool refuse_writes;
    km_reader host_reader;       /* decodes what the device wrote */
    km_message sent[MAX_SEEN];   /* valid frames the device sent, in order */
    size_t sent_count;
    int status_calls, reply_calls, host_up, host_down;
    km_led last_led;
    uint8_t last_reply[KM_MAX_REPLY_TEXT];
    size_t last_reply_len;
    uint16_t host_seq;
} fake;

static void on_device_frame(void *ctx, km_status st, const km_message *m)
{
    fake *f = (fake *)ctx;
    CHECK_MSG(st == KM_OK, "device sent a malformed frame: %s", km_status_name(st));
    if (st == KM_OK && f->sent_count < MAX_SEEN) f->sent[f->sent_count++] = *m;
}

static bool io_write(void *ctx, const uint8_t *frame, size_t len)
{
    fake *f = (fake *)ctx;
    if (f->refuse_writes) return false;
    km_reader_feed(&f->host_reader, frame, len, on_device_frame, f);
    return true;
}
static uint32_t io_now(void *ctx)
{
    return ((fake *)ctx)->now;
}
static void io_status(void *ctx, km_led led)
{
    fake *f = (fake *)ctx;
    f->status_calls++;
    f->last_led = led;
}
static void io_reply(void *ctx, uint16_t id, uint8_t flags, const uint8_t *text, size_t len)
{
    fake *f = (fake *)ctx;
    (void)id;
    (void)flags;
    f->reply_calls++;
    memcpy(f->last_reply, text, len);
    f->last_reply_len = len;
}
static void io_host(void *ctx, bool present)
{
    fake *f = (fake *)ctx;
    if (present) f->host_up++;
    else f->host_down++;
}

static void setup(km_device *d, fake *f)
{
    km_device_io io;
    km_device_identity id;
    memset(f, 0, sizeof *f);
    f->now = 0xFFFFF000u; /* start near the wrap so every timer crosses it */
    km_reader_init(&f->host_reader);
    io.ctx = f;
    io.write = io_write;
    io.now_us = io_now;
    io.on_status = io_status;
    io.on_reply = io_reply;
    io.on_host = io_host;
    id.fw_major = 1;
    id.fw_minor = 4;
    id.fw_patch = 2;
    id.capabilities = KM_CAP_KEY | KM_CAP_LED | KM_CAP_DISPLAY;
    id.device_id = "KM-TEST-0001";
    CHECK(km_device_init(d, &io, &id) == KM_OK);
}

/* The host sends one message to the device. */
static void host_send(km_device *d, fake *f, km_message *m)
{
    uint8_t frame[KM_MAX_FRAME];
    size_t n = 0;
    if ((m->flags & KM_FLAG_RETRANSMIT) == 0) m->seq = f->host_seq++;
    CHECK(km_frame_encode(m, frame, sizeof frame, &n) == KM_OK);
    km_device_receive(d, frame, n);
}

static km_message msg(uint8_t type, uint8_t flags)
{
    km_message m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.flags = flags;
    return m;
}

static const km_message *last_sent(const fake *f)
{
    return f->sent_count ? &f->sent[f->sent_count - 1] : NULL;
}

static void handshake(km_device *d, fake *f)
{
    km_message hello = msg(KM_MSG_HELLO, 0);
    hello.u.hello.protocol = 1;
    hello.u.hello.id_len = 7;
    memcpy(hello.u.hello.id, "keymate", 7);
    host_send(d, f, &hello);
}

static void ack(km_device *d, fake *f, uint16_t seq)
{
    km_message a = msg(KM_MSG_ACK, 0);
    a.u.ack.seq = seq;
    host_send(d, f, &a);
}

static void test_init_rejects(void)
{
    km_device d;
    km_device_io io;
    km_device_identity id;
    fake f;
    memset(&io, 0, sizeof io);
    memset(&id, 0, sizeof id);
    io.ctx = &f;
    io.write = io_write;
    io.now_us = io_now;
    id.device_id = "";
    CHECK(km_device_init(&d, &io, &id) == KM_ERR_ARG);
    id.device_id = "this id is longer than thirty-two chars";
    CHECK(km_device_init(&d, &io, &id) == KM_ERR_ARG);
    id.device_id = "tab\there";
    CHECK(km_device_init(&d, &io, &id) == KM_ERR_ARG);
    id.device_id = "ok";
    io.now_us = NULL;
    CHECK(km_device_init(&d, &io, &id) == KM_ERR_ARG);
}

static void test_handshake_and_key(void)
{
    km_device d;
    fake f;
    const km_message *m;
    setup(&d, &f);
    CHECK(km_device_key(&d, KM_KEY_AI, true, 1) == KM_ERR_NO_HOST);
    CHECK(d.stats.events_dropped == 1 && f.sent_count == 0);

    handshake(&d, &f);
    m = last_sent(&f);
    CHECK(m && m->type == KM_MSG_HELLO && m->u.hello.fw_major == 1 && m->u.hello.fw_patch == 2 &&
          m->u.hello.id_len == 12 && memcmp(m->u.hello.id, "KM-TEST-0001", 12) == 0 &&
          m->u.hello.protocol == KM_PROTOCOL_VERSION);
    CHECK(km_device_host_present(&d) && f.host_up == 1);

    CHECK(km_device_key(&d, KM_KEY_AI, true, 12345) == KM_OK);
    m = last_sent(&f);
    CHECK(m && m->type == KM_MSG_KEY && m->u.key.code == KM_KEY_AI && m->u.key.down == 1 &&
          m->u.key.t_us == 12345 && m->flags == KM_FLAG_ACK_REQUESTED);
    ack(&d, &f, m->seq);
    /* Acknowledged events free their slot: many more fit than there are slots. */
    {
        int i;
        for (i = 0; i < 3 * KM_PENDING_SLOTS; i++) {
            CHECK(km_device_key(&d, KM_KEY_AI, i % 2 == 0, (uint32_t)i) == KM_OK);
            ack(&d, &f, last_sent(&f)->seq);
        }
    }
    CHECK(d.stats.events_sent == 1 + 3 * KM_PENDING_SLOTS && d.stats.retransmits == 0);
}

static void test_retransmit_and_give_up(void)
{
    km_device d;
    fake f;
    uint16_t seq;
    unsigned i;
    size_t before;
    setup(&d, &f);
    handshake(&d, &f);
    CHECK(km_device_gpio(&d, 3, true, 77) == KM_OK);
    seq = last_sent(&f)->seq;
    before = f.sent_count;
    f.now += KM_ACK_TIMEOUT_US - 1;
    km_device_poll(&d);
    CHECK(f.sent_count == before); /* not yet */
    for (i = 1; i < KM_MAX_TRIES; i++) {
        km_message ping = msg(KM_MSG_PING, 0); /* keep the host alive meanwhile */
        f.now += KM_ACK_TIMEOUT_US;
        host_send(&d, &f, &ping);
        km_device_poll(&d);
        CHECK(last_sent(&f)->type == KM_MSG_GPIO && last_sent(&f)->seq == seq &&
              last_sent(&f)->flags == (KM_FLAG_ACK_REQUESTED | KM_FLAG_RETRANSMIT) && last_sent(&f)->u.gpio.t_us == 77);
    }
    CHECK(d.stats.retransmits == KM_MAX_TRIES - 1);
    f.now += KM_ACK_TIMEOUT_US;
    km_device_poll(&d);
    CHECK(d.stats.given_up == 1);
    before = f.sent_count;
    f.now += KM_ACK_TIMEOUT_US;
    km_device_poll(&d);
    CHECK(f.sent_count == before); /* the slot is free again */
}

static void test_busy_and_nacks(void)
{
    km_device d;
    fake f;
    unsigned i;
    uint16_t first_seq = 0;
    km_message nack;
    setup(&d, &f);
    handshake(&d, &f);
    for (i = 0; i < KM_PENDING_SLOTS; i++) {
        CHECK(km_device_key(&d, 0x0100, true, i) == KM_OK);
        if (i == 0) first_seq = last_sent(&f)->seq;
    }
    CHECK(km_device_key(&d, 0x0100, false, 9) == KM_ERR_BUSY);

    /* busy: kept and retransmitted; a final reason frees the slot */
    nack = msg(KM_MSG_NACK, 0);
    nack.u.nack.seq = first_seq;
    nack.u.nack.reason = KM_NACK_BUSY;
    host_send(&d, &f, &nack);
    CHECK(km_device_key(&d, 0x0100, false, 9) == KM_ERR_BUSY);
    nack.u.nack.reason = KM_NACK_BAD_PAYLOAD;
    host_send(&d, &f, &nack);
    CHECK(d.stats.nacks_received == 2 && d.stats.given_up == 1);
    CHECK(km_device_key(&d, 0x0100, false, 9) == KM_OK);
}

static void test_status_reply_and_duplicates(void)
{
    km_device d;
    fake f;
    km_message status, reply;
    const km_message *m;
    setup(&d, &f);
    handshake(&d, &f);

    status = msg(KM_MSG_STATUS, KM_FLAG_ACK_REQUESTED);
    status.u.status.led = KM_LED_THINKING;
    host_send(&d, &f, &status);
    CHECK(f.status_calls == 1 && f.last_led == KM_LED_THINKING);
    m = last_sent(&f);
    CHECK(m && m->type == KM_MSG_ACK && m->u.ack.seq == status.seq);

    /* Our ACK was "lost": the host retransmits. ACK again, act once. */
    status.flags |= KM_FLAG_RETRANSMIT;
    host_send(&d, &f, &status);
    CHECK(f.status_calls == 1 && d.stats.duplicates == 1);
    m = last_sent(&f);
    CHECK(m && m->type == KM_MSG_ACK && m->u.ack.seq == status.seq);

    reply = msg(KM_MSG_REPLY, KM_FLAG_ACK_REQUESTED);
    reply.u.reply.reply_id = 9;
    reply.u.reply.chunk_flags = KM_REPLY_FIRST;
    reply.u.reply.len = 5;
    memcpy(reply.u.reply.bytes, "hello", 5);
    host_send(&d, &f, &reply);
    CHECK(f.reply_calls == 1 && f.last_reply_len == 5 && memcmp(f.last_reply, "hello", 5) == 0);
}

static void test_ping_pong(void)
{
    km_device d;
    fake f;
    km_message ping = msg(KM_MSG_PING, 0);
    const km_message *m;
    setup(&d, &f);
    handshake(&d, &f);
    ping.u.ping.token = 0xCAFEF00Du;
    f.now = 4242;
    host_send(&d, &f, &ping);
    m = last_sent(&f);
    CHECK(m && m->type == KM_MSG_PONG && m->u.pong.token == 0xCAFEF00Du && m->u.pong.clock_us == 4242);
}

static void test_host_timeout(void)
{
    km_device d;
    fake f;
    setup(&d, &f);
    handshake(&d, &f);
    CHECK(km_device_key(&d, KM_KEY_AI, true, 0) == KM_OK); /* left unacknowledged */
    f.now += KM_HOST_TIMEOUT_US;
    km_device_poll(&d);
    CHECK(km_device_host_present(&d)); /* exactly the timeout is still fine */
    f.now += 1;
    km_device_poll(&d);
    CHECK(!km_device_host_present(&d) && f.host_down == 1);
    CHECK(km_device_key(&d, KM_KEY_AI, false, 1) == KM_ERR_NO_HOST);
    /* the stale event is not replayed when a host comes back */
    handshake(&d, &f);
    {
        size_t before = f.sent_count;
        f.now += KM_ACK_TIMEOUT_US * 2;
        km_device_poll(&d);
        CHECK(f.sent_count == before);
    }
}

static void test_not_ready_invites_hello(void)
{
    km_device d;
    fake f;
    km_message status = msg(KM_MSG_STATUS, KM_FLAG_ACK_REQUESTED);
    setup(&d, &f);
    status.u.status.led = KM_LED_IDLE;
    host_send(&d, &f, &status);
    CHECK(f.sent_count == 2 && f.sent[0].type == KM_MSG_NACK && f.sent[0].u.nack.reason == KM_NACK_NOT_READY &&
          f.sent[1].type == KM_MSG_HELLO && f.status_calls == 0);
    host_send(&d, &f, &status);
    CHECK(f.sent_count == 3); /* NACK again, but the invitation is rate-limited */
    f.now += KM_HELLO_INTERVAL_US;
    host_send(&d, &f, &status);
    CHECK(f.sent_count == 5 && f.sent[4].type == KM_MSG_HELLO);
}

static void test_unknown_type_is_nacked(void)
{
    km_device d;
    fake f;
    /* A v1 frame of type 0x0B with a good CRC, as a newer host might send. */
    uint8_t body[] = {1, 0x0B, 0x34, 0x12, KM_FLAG_ACK_REQUESTED, 0x99, 0, 0};
    uint8_t frame[16];
    size_t n;
    uint16_t crc = km_crc16(body, 6);
    setup(&d, &f);
    handshake(&d, &f);
    body[6] = (uint8_t)(crc & 0xFF);
    body[7] = (uint8_t)(crc >> 8);
    CHECK(km_cobs_encode(body, sizeof body, frame, sizeof frame - 1, &n) == KM_OK);
    frame[n++] = 0;
    km_device_receive(&d, frame, n);
    CHECK(last_sent(&f)->type == KM_MSG_NACK && last_sent(&f)->u.nack.seq == 0x1234 &&
          last_sent(&f)->u.nack.reason == KM_NACK_UNSUPPORTED_TYPE);
    CHECK(d.reader.stats.errors[KM_ERR_TYPE] == 1);
}

static void test_text(void)
{
    km_device d;
    fake f;
    static const uint8_t ok[] = "h\xC3\xA9llo";
    static const uint8_t bad[] = {0x61, 0xC0, 0x80};
    uint8_t big[KM_MAX_PAYLOAD + 1];
    setup(&d, &f);
    handshake(&d, &f);
    memset(big, 'a', sizeof big);
    CHECK(km_device_text(&d, bad, sizeof bad) == KM_ERR_ARG);
    CHECK(km_device_text(&d, big, sizeof big) == KM_ERR_ARG);
    CHECK(km_device_text(&d, ok, sizeof ok - 1) == KM_OK);
    CHECK(last_sent(&f)->type == KM_MSG_TEXT && last_sent(&f)->u.text.len == 6 &&
          memcmp(last_sent(&f)->u.text.bytes, ok, 6) == 0);
}

static void test_refused_write_is_retried(void)
{
    km_device d;
    fake f;
    setup(&d, &f);
    handshake(&d, &f);
    f.refuse_writes = true;
    CHECK(km_device_key(&d, KM_KEY_AI, true, 5) == KM_OK);
    CHECK(d.stats.write_failures == 1);
    f.refuse_writes = false;
    f.now += KM_ACK_TIMEOUT_US;
    km_device_poll(&d);
    CHECK(last_sent(&f)->type == KM_MSG_KEY && (last_sent(&f)->flags & KM_FLAG_RETRANSMIT));
}

static void test_noise(void)
{
    km_device d;
    fake f;
    uint32_t x = 12345;
    int i;
    km_message status = msg(KM_MSG_STATUS, KM_FLAG_ACK_REQUESTED);
    setup(&d, &f);
    handshake(&d, &f);
    for (i = 0; i < 20000; i++) {
        uint8_t b;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = (uint8_t)x;
        km_device_receive(&d, &b, 1);
    }
    km_device_receive(&d, (const uint8_t *)"\0", 1);
    CHECK(d.reader.stats.malformed > 0 && d.reader.stats.malformed == d.reader.stats.errors[KM_ERR_COBS] +
          d.reader.stats.errors[KM_ERR_LENGTH] + d.reader.stats.errors[KM_ERR_OVERFLOW] + d.reader.stats.errors[KM_ERR_CRC] +
          d.reader.stats.errors[KM_ERR_VERSION] + d.reader.stats.errors[KM_ERR_FLAGS] + d.reader.stats.errors[KM_ERR_TYPE] +
          d.reader.stats.errors[KM_ERR_PAYLOAD] + d.reader.stats.errors[KM_ERR_UTF8]);
    status.u.status.led = KM_LED_REPLYING;
    host_send(&d, &f, &status);
    CHECK(f.status_calls == 1 && f.last_led == KM_LED_REPLYING); /* the line works after the noise */
}

int main(void)
{
    test_init_rejects();
    test_handshake_and_key();
    test_retransmit_and_give_up();
    test_busy_and_nacks();
    test_status_reply_and_duplicates();
    test_ping_pong();
    test_host_timeout();
    test_not_ready_invites_hello();
    test_unknown_type_is_nacked();
    test_text();
    test_refused_write_is_retried();
    test_noise();
    return check_report("test_device");
}
