/* Names of km_status values; the frame errors' names are the protocol's (PROTOCOL.md). */
#include "km_protocol.h"

const char *km_status_name(km_status status)
{
    static const char *const names[] = {
        "ok", "cobs", "length", "overflow", "crc", "version", "flags", "type", "payload",
        "utf8", "arg", "no-host", "busy", "write",
    };
    unsigned i = (unsigned)status;
    return i < sizeof names / sizeof names[0] ? names[i] : "?";
}
