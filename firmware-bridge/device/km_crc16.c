/*
 * CRC-16/CCITT-FALSE, bit by bit: eight shifts per byte cost a keyboard MCU nothing at serial
 * rates and save the 512-byte table the host side uses.
 */
#include "km_codec.h"

uint16_t km_crc16(const uint8_t *data, size_t len)
{
    /* Held in an unsigned int so that shifts do not go through int promotion. */
    unsigned crc = 0xFFFFu;
    size_t i;
    for (i = 0; i < len; i++) {
        int bit;
        crc ^= (unsigned)data[i] << 8;
        for (bit = 0; bit < 8; bit++) {
            crc = (crc & 0x8000u) ? ((crc << 1) ^ 0x1021u) : (crc << 1);
            crc &= 0xFFFFu;
        }
    }
    return (uint16_t)crc;
}
