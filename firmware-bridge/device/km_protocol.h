/*
 * Keymate keyboard protocol v1: the numbers and the message struct (firmware-bridge/PROTOCOL.md).
 *
 * Portable C99 for keyboard firmware: no allocation, no stdio, every buffer fixed at compile
 * time. The TypeScript side states the same numbers in protocol/constants.ts; the shared
 * vectors (vectors/frames.json) keep the two in step.
 */
#ifndef KM_PROTOCOL_H
#define KM_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KM_PROTOCOL_VERSION 1u

/* Body = version, type, seq (u16 LE), flags, payload, CRC-16/CCITT-FALSE (u16 LE). */
#define KM_HEADER_SIZE 5u
#define KM_CRC_SIZE 2u
#define KM_MAX_PAYLOAD 240u
#define KM_MIN_BODY (KM_HEADER_SIZE + KM_CRC_SIZE)
#define KM_MAX_BODY (KM_HEADER_SIZE + KM_MAX_PAYLOAD + KM_CRC_SIZE)
/* COBS adds one byte per 254; a body of at most 247 bytes gains exactly one. */
#define KM_MAX_ENCODED (KM_MAX_BODY + 1u)
/* What one frame takes on the wire: COBS blocks and the 0x00 delimiter. */
#define KM_MAX_FRAME (KM_MAX_ENCODED + 1u)

#define KM_MAX_DEVICE_ID 32u
#define KM_MAX_REPLY_TEXT (KM_MAX_PAYLOAD - 3u)

/* The key code of the AI key; codes from 0x0100 up are the maker's own keys. */
#define KM_KEY_AI 0x0001u

typedef enum km_msg_type {
    KM_MSG_HELLO = 0x01,
    KM_MSG_KEY = 0x02,
    KM_MSG_GPIO = 0x03,
    KM_MSG_TEXT = 0x04,
    KM_MSG_PING = 0x05,
    KM_MSG_PONG = 0x06,
    KM_MSG_STATUS = 0x07,
    KM_MSG_REPLY = 0x08,
    KM_MSG_ACK = 0x09,
    KM_MSG_NACK = 0x0A
} km_msg_type;

/* Frame flags. A v1 receiver drops a frame that sets a reserved bit. */
#define KM_FLAG_ACK_REQUESTED 0x01u
#define KM_FLAG_RETRANSMIT 0x02u
#define KM_FLAGS_RESERVED 0xFCu

typedef enum km_led {
    KM_LED_IDLE = 0,
    KM_LED_LISTENING = 1,
    KM_LED_THINKING = 2,
    KM_LED_REPLYING = 3,
    KM_LED_ERROR = 4
} km_led;
#define KM_LED_COUNT 5u

/* HELLO capability bits: what the sender can send or act on. */
#define KM_CAP_KEY 0x01u
#define KM_CAP_GPIO 0x02u
#define KM_CAP_TEXT 0x04u
#define KM_CAP_LED 0x08u
#define KM_CAP_DISPLAY 0x10u

typedef enum km_nack_reason {
    KM_NACK_BUSY = 1,
    KM_NACK_UNSUPPORTED_TYPE = 2,
    KM_NACK_BAD_PAYLOAD = 3,
    KM_NACK_NOT_READY = 4
} km_nack_reason;

/* REPLY chunk flags. */
#define KM_REPLY_FIRST 0x01u
#define KM_REPLY_LAST 0x02u

/*
 * Results. The frame errors come first, in the order a decoder checks them; their names
 * (km_status_name) are the ones the TypeScript side and the vectors file use.
 */
typedef enum km_status {
    KM_OK = 0,
    KM_ERR_COBS,     /* COBS blocks do not fit the frame */
    KM_ERR_LENGTH,   /* body shorter than header + CRC */
    KM_ERR_OVERFLOW, /* more bytes than any frame before a 0x00 */
    KM_ERR_CRC,
    KM_ERR_VERSION,
    KM_ERR_FLAGS,    /* a reserved flag bit is set */
    KM_ERR_TYPE,     /* unknown message type */
    KM_ERR_PAYLOAD,  /* wrong payload length or a field out of range */
    KM_ERR_UTF8,     /* TEXT or REPLY text is not strict UTF-8 */
    /* Not frame errors: what the device API returns to the firmware. */
    KM_ERR_ARG,      /* an argument out of range (a message that cannot be encoded) */
    KM_ERR_NO_HOST,  /* no host has said HELLO, or it went quiet: the event is dropped */
    KM_ERR_BUSY,     /* every retransmission slot holds an unacknowledged frame */
    KM_ERR_WRITE     /* the transport refused the frame */
} km_status;
#define KM_FRAME_ERROR_COUNT ((unsigned)KM_ERR_UTF8 + 1u)

/* "ok", "cobs", "length", ... as in the vectors file; "?" for a value out of range. */
const char *km_status_name(km_status status);

/* One decoded frame. `flags` holds the frame's flag bits; `u` the member named by `type`. */
typedef struct km_message {
    uint8_t type;  /* km_msg_type */
    uint16_t seq;
    uint8_t flags;
    union {
        struct {
            uint8_t protocol;
            uint8_t fw_major, fw_minor, fw_patch;
            uint32_t capabilities;
            uint8_t id_len; /* 1..32 */
            char id[KM_MAX_DEVICE_ID]; /* printable ASCII, not NUL-terminated */
        } hello;
        struct {
            uint16_t code;
            uint8_t down;  /* 1 down, 0 up */
            uint32_t t_us; /* device clock, wrapping */
        } key;
        struct {
            uint8_t line;
            uint8_t level;
            uint32_t t_us;
        } gpio;
        struct {
            uint8_t len;
            uint8_t bytes[KM_MAX_PAYLOAD]; /* strict UTF-8 */
        } text;
        struct {
            uint32_t token;
        } ping;
        struct {
            uint32_t token;
            uint32_t clock_us;
        } pong;
        struct {
            uint8_t led; /* km_led */
        } status;
        struct {
            uint16_t reply_id;
            uint8_t chunk_flags; /* KM_REPLY_FIRST | KM_REPLY_LAST */
            uint8_t len;
            uint8_t bytes[KM_MAX_REPLY_TEXT];
        } reply;
        struct {
            uint16_t seq;
        } ack;
        struct {
            uint16_t seq;
            uint8_t reason; /* km_nack_reason */
        } nack;
    } u;
} km_message;

#endif /* KM_PROTOCOL_H */
