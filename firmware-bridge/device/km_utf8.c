/*
 * Strict UTF-8, the set RFC 3629 and the WHATWG decoder accept: the second byte's range
 * depends on the lead byte, which is what rules out overlong forms (E0, F0), UTF-16
 * surrogates (ED) and code points above U+10FFFF (F4) without decoding to a code point.
 */
#include "km_codec.h"

/* Length of the sequence a lead byte starts, 0 for a byte that cannot lead. */
static size_t sequence_length(uint8_t lead)
{
    if (lead < 0x80u) return 1;
    if (lead >= 0xC2u && lead <= 0xDFu) return 2;
    if (lead >= 0xE0u && lead <= 0xEFu) return 3;
    if (lead >= 0xF0u && lead <= 0xF4u) return 4;
    return 0;
}

static bool second_byte_ok(uint8_t lead, uint8_t b)
{
    switch (lead) {
    case 0xE0u: return b >= 0xA0u && b <= 0xBFu;
    case 0xEDu: return b >= 0x80u && b <= 0x9Fu;
    case 0xF0u: return b >= 0x90u && b <= 0xBFu;
    case 0xF4u: return b >= 0x80u && b <= 0x8Fu;
    default: return b >= 0x80u && b <= 0xBFu;
    }
}

bool km_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n = sequence_length(s[i]);
        size_t k;
        if (n == 0 || n > len - i) return false;
        if (n > 1 && !second_byte_ok(s[i], s[i + 1])) return false;
        for (k = 2; k < n; k++) {
            if ((s[i + k] & 0xC0u) != 0x80u) return false;
        }
        i += n;
    }
    return true;
}

size_t km_utf8_prefix(const uint8_t *s, size_t len, size_t max)
{
    size_t cut;
    if (len <= max) return len;
    /* Back up over continuation bytes so the cut falls before a lead byte. */
    cut = max;
    while (cut > 0 && (s[cut] & 0xC0u) == 0x80u) {
        cut--;
    }
    return cut;
}
