/*
 * The keyboard's end of the link, as a small state machine the firmware drives:
 *
 *   NO_HOST --(host HELLO: answer HELLO)--> HOST --(no frame for KM_HOST_TIMEOUT_US)--> NO_HOST
 *
 * The firmware feeds received bytes to km_device_receive, calls km_device_poll every few
 * milliseconds (retransmissions and the host timeout), and reports edges with km_device_key,
 * km_device_gpio and km_device_text. Events are sent with ACK requested and kept in one of
 * KM_PENDING_SLOTS slots until the host ACKs them, retransmitted every KM_ACK_TIMEOUT_US up to
 * KM_MAX_TRIES sends. While no host is present, events are dropped: a key press nobody hears
 * is better forgotten than replayed minutes later.
 *
 * No allocation, no stdio, no globals: everything lives in the km_device the caller owns
 * (2.3 KB with the default 4 slots, of which 260 bytes per slot). Not reentrant: call it from
 * one context.
 */
#ifndef KM_DEVICE_H
#define KM_DEVICE_H

#include "km_protocol.h"
#include "km_reader.h"

#ifndef KM_PENDING_SLOTS
#define KM_PENDING_SLOTS 4
#endif
#ifndef KM_ACK_TIMEOUT_US
#define KM_ACK_TIMEOUT_US 200000u
#endif
#ifndef KM_MAX_TRIES
#define KM_MAX_TRIES 4u /* the first send and three retransmissions */
#endif
#ifndef KM_HOST_TIMEOUT_US
#define KM_HOST_TIMEOUT_US 3000000u /* the host pings every second */
#endif
#ifndef KM_HELLO_INTERVAL_US
#define KM_HELLO_INTERVAL_US 500000u /* how often an unknown host is invited to say HELLO */
#endif
#define KM_SEEN_WINDOW 16u /* recent host seqs remembered to drop retransmitted duplicates */

typedef struct km_device_io {
    void *ctx;
    /* Queue one whole frame for the USB endpoint; false if it does not fit right now. */
    bool (*write)(void *ctx, const uint8_t *frame, size_t len);
    /* A free-running microsecond clock; wrapping is fine. */
    uint32_t (*now_us)(void *ctx);
    /* Optional (may be NULL): the LED state the host asks for. */
    void (*on_status)(void *ctx, km_led led);
    /* Optional: a chunk of reply text for a display (strict UTF-8, not NUL-terminated). */
    void (*on_reply)(void *ctx, uint16_t reply_id, uint8_t chunk_flags, const uint8_t *text, size_t len);
    /* Optional: a host appeared (true) or went quiet (false). */
    void (*on_host)(void *ctx, bool present);
} km_device_io;

typedef struct km_device_identity {
    uint8_t fw_major, fw_minor, fw_patch;
    uint32_t capabilities; /* KM_CAP_* */
    const char *device_id; /* 1..32 printable ASCII, NUL-terminated; copied */
} km_device_identity;

typedef struct km_device_stats {
    uint32_t events_sent;
    uint32_t events_dropped;  /* no host, or every slot busy */
    uint32_t retransmits;
    uint32_t given_up;        /* events never acknowledged after KM_MAX_TRIES sends */
    uint32_t nacks_received;
    uint32_t write_failures;  /* io.write said no */
    uint32_t duplicates;      /* host retransmissions already delivered */
} km_device_stats;

typedef struct km_pending {
    km_message msg;
    uint32_t sent_us;
    uint8_t tries;
    bool used;
} km_pending;

typedef struct km_device {
    km_device_io io;
    uint8_t fw[3];
    uint32_t capabilities;
    uint8_t id_len;
    char id[KM_MAX_DEVICE_ID];

    km_reader reader;
    bool host_present;
    uint32_t last_rx_us;
    bool hello_sent;        /* an invitation HELLO went out at last_hello_us */
    uint32_t last_hello_us;
    uint16_t next_seq;
    uint16_t seen[KM_SEEN_WINDOW];
    uint8_t seen_count, seen_next;
    km_pending pending[KM_PENDING_SLOTS];
    km_message out;         /* scratch for frames that are not kept */
    uint8_t tx[KM_MAX_FRAME];
    km_device_stats stats;
} km_device;

/* KM_ERR_ARG if the identity is invalid or io lacks write/now_us. */
km_status km_device_init(km_device *d, const km_device_io *io, const km_device_identity *identity);

void km_device_receive(km_device *d, const uint8_t *data, size_t len);
void km_device_poll(km_device *d);

/*
 * Events. KM_OK means sent, or queued for retransmission if io.write refused it;
 * KM_ERR_NO_HOST and KM_ERR_BUSY mean dropped. `t_us` is the edge's time on the now_us clock.
 */
km_status km_device_key(km_device *d, uint16_t code, bool down, uint32_t t_us);
km_status km_device_gpio(km_device *d, uint8_t line, bool level, uint32_t t_us);
/* At most KM_MAX_PAYLOAD bytes of strict UTF-8 (km_utf8_prefix cuts longer text); else KM_ERR_ARG. */
km_status km_device_text(km_device *d, const uint8_t *utf8, size_t len);

bool km_device_host_present(const km_device *d);

#endif /* KM_DEVICE_H */
