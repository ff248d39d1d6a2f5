/*
 * libFuzzer target for everything that reads bytes from the host: the frame decoder, the
 * stream reader and the device state machine behind it. Beyond "no crash, no sanitizer
 * report" it checks two invariants and traps when one breaks:
 *   - a frame the decoder accepts re-encodes to exactly the bytes it came from
 *     (decoding is the inverse of encoding, so nothing is accepted loosely);
 *   - the reader's counters add up (every 0x00-delimited frame is counted once).
 * Build and run: make -C firmware-bridge/device fuzz SECONDS=30 (or scripts/fuzz-cobs.sh).
 */
#include "../km_codec.h"
#include "../km_device.h"

#include <string.h>

static uint32_t clock_us;

static bool sink(void *ctx, const uint8_t *frame, size_t len)
{
    km_message m;
    (void)ctx;
    /* What the device writes must always be a valid frame. */
    if (len < 2 || frame[len - 1] != 0 || km_frame_decode(frame, len - 1, &m) != KM_OK) __builtin_trap();
    return true;
}

static uint32_t now(void *ctx)
{
    (void)ctx;
    return clock_us;
}

static void check_round_trip(const uint8_t *data, size_t len)
{
    km_message m;
    uint8_t again[KM_MAX_FRAME];
    size_t n = 0;
    if (memchr(data, 0, len) != NULL) return; /* not a single frame */
    if (km_frame_decode(data, len, &m) != KM_OK) return;
    if (km_frame_encode(&m, again, sizeof again, &n) != KM_OK) __builtin_trap();
    if (n != len + 1 || memcmp(again, data, len) != 0) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static km_device device;
    km_device_io io;
    km_device_identity id;
    size_t split, zeros = 0, i;
    uint32_t counted;

    check_round_trip(data, size);

    memset(&io, 0, sizeof io);
    io.write = sink;
    io.now_us = now;
    id.fw_major = 1;
    id.fw_minor = 0;
    id.fw_patch = 0;
    id.capabilities = KM_CAP_KEY | KM_CAP_LED | KM_CAP_DISPLAY;
    id.device_id = "fuzz";
    if (km_device_init(&device, &io, &id) != KM_OK) __builtin_trap();

    /* Feed in two pieces, cut where the first byte says, and move the clock in between. */
    split = size ? data[0] % (size + 1) : 0;
    clock_us = 0xFFFFFF00u;
    km_device_receive(&device, data, split);
    clock_us += 250000u;
    km_device_poll(&device);
    (void)km_device_key(&device, KM_KEY_AI, true, clock_us);
    km_device_receive(&device, data + split, size - split);
    clock_us += 250000u;
    km_device_poll(&device);

    for (i = 0; i < size; i++) zeros += data[i] == 0;
    counted = device.reader.stats.frames + device.reader.stats.malformed;
    if (counted > zeros) __builtin_trap();
    {
        uint32_t sum = 0;
        unsigned k;
        for (k = 0; k < KM_FRAME_ERROR_COUNT; k++) sum += device.reader.stats.errors[k];
        if (sum != device.reader.stats.malformed || device.reader.stats.bytes != size) __builtin_trap();
    }
    return 0;
}
