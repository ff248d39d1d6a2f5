/* The keyboard's end of the link; see km_device.h for the state machine and its rules. */
#include "km_device.h"

#include "km_codec.h"

#include <string.h>

static uint32_t now(const km_device *d)
{
    return d->io.now_us(d->io.ctx);
}

/* Elapsed time on a wrapping u32 clock; correct for gaps under ~71 minutes. */
static uint32_t since(uint32_t later, uint32_t earlier)
{
    return (uint32_t)(later - earlier);
}

static bool transmit(km_device *d, const km_message *m)
{
    size_t len;
    if (km_frame_encode(m, d->tx, sizeof d->tx, &len) != KM_OK) return false;
    if (!d->io.write(d->io.ctx, d->tx, len)) {
        d->stats.write_failures++;
        return false;
    }
    return true;
}

static void begin(km_device *d, uint8_t type, uint8_t flags)
{
    memset(&d->out, 0, sizeof d->out);
    d->out.type = type;
    d->out.seq = d->next_seq++;
    d->out.flags = flags;
}

static void send_hello(km_device *d)
{
    begin(d, KM_MSG_HELLO, 0);
    d->out.u.hello.protocol = KM_PROTOCOL_VERSION;
    d->out.u.hello.fw_major = d->fw[0];
    d->out.u.hello.fw_minor = d->fw[1];
    d->out.u.hello.fw_patch = d->fw[2];
    d->out.u.hello.capabilities = d->capabilities;
    d->out.u.hello.id_len = d->id_len;
    memcpy(d->out.u.hello.id, d->id, d->id_len);
    (void)transmit(d, &d->out);
}

static void send_ack(km_device *d, uint16_t seq)
{
    begin(d, KM_MSG_ACK, 0);
    d->out.u.ack.seq = seq;
    (void)transmit(d, &d->out);
}

static void send_nack(km_device *d, uint16_t seq, km_nack_reason reason)
{
    begin(d, KM_MSG_NACK, 0);
    d->out.u.nack.seq = seq;
    d->out.u.nack.reason = (uint8_t)reason;
    (void)transmit(d, &d->out);
}

static void clear_pending(km_device *d)
{
    unsigned i;
    for (i = 0; i < KM_PENDING_SLOTS; i++) d->pending[i].used = false;
}

static void set_host(km_device *d, bool present)
{
    if (d->host_present == present) return;
    d->host_present = present;
    if (!present) clear_pending(d); /* stale events are not replayed to the next host */
    if (d->io.on_host) d->io.on_host(d->io.ctx, present);
}

/* True if this host frame was already delivered (a retransmission whose ACK got lost). */
static bool seen_before(km_device *d, const km_message *m)
{
    unsigned i;
    if ((m->flags & KM_FLAG_RETRANSMIT) == 0) return false;
    for (i = 0; i < d->seen_count; i++) {
        if (d->seen[i] == m->seq) return true;
    }
    return false;
}

static void remember(km_device *d, uint16_t seq)
{
    d->seen[d->seen_next] = seq;
    d->seen_next = (uint8_t)((d->seen_next + 1u) % KM_SEEN_WINDOW);
    if (d->seen_count < KM_SEEN_WINDOW) d->seen_count++;
}

/* STATUS and REPLY: deliver once, ACK every copy. */
static void deliver(km_device *d, const km_message *m)
{
    bool wants_ack = (m->flags & KM_FLAG_ACK_REQUESTED) != 0;
    if (seen_before(d, m)) {
        d->stats.duplicates++;
    } else {
        if (wants_ack) remember(d, m->seq);
        if (m->type == KM_MSG_STATUS && d->io.on_status) {
            d->io.on_status(d->io.ctx, (km_led)m->u.status.led);
        } else if (m->type == KM_MSG_REPLY && d->io.on_reply) {
            d->io.on_reply(d->io.ctx, m->u.reply.reply_id, m->u.reply.chunk_flags, m->u.reply.bytes,
                           m->u.reply.len);
        }
    }
    if (wants_ack) send_ack(d, m->seq);
}

static km_pending *find_pending(km_device *d, uint16_t seq)
{
    unsigned i;
    for (i = 0; i < KM_PENDING_SLOTS; i++) {
        if (d->pending[i].used && d->pending[i].msg.seq == seq) return &d->pending[i];
    }
    return NULL;
}

static void on_frame(void *ctx, km_status st, const km_message *m)
{
    km_device *d = (km_device *)ctx;
    uint32_t t = now(d);
    bool wants_ack;

    if (st != KM_OK) {
        /* The CRC held but the frame is of no use: say why, if the sender is waiting. */
        if (m && (m->flags & KM_FLAG_ACK_REQUESTED) && st >= KM_ERR_TYPE) {
            send_nack(d, m->seq, st == KM_ERR_TYPE ? KM_NACK_UNSUPPORTED_TYPE : KM_NACK_BAD_PAYLOAD);
        }
        return;
    }
    d->last_rx_us = t;
    wants_ack = (m->flags & KM_FLAG_ACK_REQUESTED) != 0;

    if (m->type == KM_MSG_HELLO) {
        /* A new session: forget the old one's duplicates and unacknowledged events. */
        d->seen_count = 0;
        d->seen_next = 0;
        clear_pending(d);
        send_hello(d);
        set_host(d, true);
        return;
    }
    if (m->type == KM_MSG_PING) {
        uint32_t token = m->u.ping.token;
        begin(d, KM_MSG_PONG, 0);
        d->out.u.pong.token = token;
        d->out.u.pong.clock_us = t;
        (void)transmit(d, &d->out);
    }
    if (!d->host_present) {
        /* A host that skipped or lost the handshake: refuse, and invite it to say HELLO. */
        if (wants_ack) send_nack(d, m->seq, KM_NACK_NOT_READY);
        if (!d->hello_sent || since(t, d->last_hello_us) >= KM_HELLO_INTERVAL_US) {
            d->hello_sent = true;
            d->last_hello_us = t;
            send_hello(d);
        }
        return;
    }

    switch (m->type) {
    case KM_MSG_STATUS:
    case KM_MSG_REPLY:
        deliver(d, m);
        break;
    case KM_MSG_ACK: {
        km_pending *p = find_pending(d, m->u.ack.seq);
        if (p) p->used = false;
        break;
    }
    case KM_MSG_NACK: {
        km_pending *p = find_pending(d, m->u.nack.seq);
        d->stats.nacks_received++;
        /* busy: keep it, the next retransmission tries again; any other reason is final */
        if (p && m->u.nack.reason != KM_NACK_BUSY) {
            p->used = false;
            d->stats.given_up++;
        }
        break;
    }
    case KM_MSG_PING:
    case KM_MSG_PONG:
        break;
    default:
        /* KEY, GPIO, TEXT: the host has no business sending them. */
        if (wants_ack) send_nack(d, m->seq, KM_NACK_UNSUPPORTED_TYPE);
        break;
    }
}

km_status km_device_init(km_device *d, const km_device_io *io, const km_device_identity *identity)
{
    size_t len;
    size_t i;
    if (!io || !io->write || !io->now_us || !identity || !identity->device_id) return KM_ERR_ARG;
    len = 0;
    while (len <= KM_MAX_DEVICE_ID && identity->device_id[len] != '\0') len++;
    if (len < 1 || len > KM_MAX_DEVICE_ID) return KM_ERR_ARG;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)identity->device_id[i];
        if (c < 0x20u || c > 0x7Eu) return KM_ERR_ARG;
    }
    memset(d, 0, sizeof *d);
    d->io = *io;
    d->fw[0] = identity->fw_major;
    d->fw[1] = identity->fw_minor;
    d->fw[2] = identity->fw_patch;
    d->capabilities = identity->capabilities;
    d->id_len = (uint8_t)len;
    memcpy(d->id, identity->device_id, len);
    km_reader_init(&d->reader);
    return KM_OK;
}

void km_device_receive(km_device *d, const uint8_t *data, size_t len)
{
    km_reader_feed(&d->reader, data, len, on_frame, d);
}

void km_device_poll(km_device *d)
{
    uint32_t t = now(d);
    unsigned i;
    if (d->host_present && since(t, d->last_rx_us) > KM_HOST_TIMEOUT_US) {
        set_host(d, false);
        return;
    }
    for (i = 0; i < KM_PENDING_SLOTS; i++) {
        km_pending *p = &d->pending[i];
        if (!p->used || since(t, p->sent_us) < KM_ACK_TIMEOUT_US) continue;
        if (p->tries >= KM_MAX_TRIES) {
            p->used = false;
            d->stats.given_up++;
            continue;
        }
        p->msg.flags |= KM_FLAG_RETRANSMIT;
        p->tries++;
        p->sent_us = t;
        d->stats.retransmits++;
        (void)transmit(d, &p->msg);
    }
}

/* Takes a free slot for an event, or says why the event is dropped. */
static km_status claim(km_device *d, km_pending **slot, uint8_t type)
{
    unsigned i;
    if (!d->host_present) {
        d->stats.events_dropped++;
        return KM_ERR_NO_HOST;
    }
    for (i = 0; i < KM_PENDING_SLOTS; i++) {
        if (!d->pending[i].used) {
            km_pending *p = &d->pending[i];
            memset(&p->msg, 0, sizeof p->msg);
            p->msg.type = type;
            p->msg.flags = KM_FLAG_ACK_REQUESTED;
            *slot = p;
            return KM_OK;
        }
    }
    d->stats.events_dropped++;
    return KM_ERR_BUSY;
}

static km_status launch(km_device *d, km_pending *p)
{
    p->msg.seq = d->next_seq++;
    p->used = true;
    p->tries = 1;
    p->sent_us = now(d);
    d->stats.events_sent++;
    (void)transmit(d, &p->msg); /* a refused write is retried by km_device_poll */
    return KM_OK;
}

km_status km_device_key(km_device *d, uint16_t code, bool down, uint32_t t_us)
{
    km_pending *p = NULL;
    km_status st = claim(d, &p, KM_MSG_KEY);
    if (st != KM_OK) return st;
    p->msg.u.key.code = code;
    p->msg.u.key.down = down ? 1u : 0u;
    p->msg.u.key.t_us = t_us;
    return launch(d, p);
}

km_status km_device_gpio(km_device *d, uint8_t line, bool level, uint32_t t_us)
{
    km_pending *p = NULL;
    km_status st = claim(d, &p, KM_MSG_GPIO);
    if (st != KM_OK) return st;
    p->msg.u.gpio.line = line;
    p->msg.u.gpio.level = level ? 1u : 0u;
    p->msg.u.gpio.t_us = t_us;
    return launch(d, p);
}

km_status km_device_text(km_device *d, const uint8_t *utf8, size_t len)
{
    km_pending *p = NULL;
    km_status st;
    if (len > KM_MAX_PAYLOAD || (len > 0 && !utf8) || !km_utf8_valid(utf8, len)) return KM_ERR_ARG;
    st = claim(d, &p, KM_MSG_TEXT);
    if (st != KM_OK) return st;
    p->msg.u.text.len = (uint8_t)len;
    if (len > 0) memcpy(p->msg.u.text.bytes, utf8, len);
    return launch(d, p);
}

bool km_device_host_present(const km_device *d)
{
    return d->host_present;
}
