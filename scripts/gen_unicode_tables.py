#!/usr/bin/env python3
"""Generates native/src/unicode_tables.cpp: the code point classes that the
tokenizers' pre-tokenizers need (\\p{L}, \\p{N}, \\p{P}, ... and \\s).

Input is the Unicode Character Database as Debian's `unicode-data` package
installs it (/usr/share/unicode/UnicodeData.txt for the general category,
PropList.txt for White_Space). Output is one sorted array of ranges
(first code point, class bits): the tokenizer looks classes up by binary
search, with a flat cache for the Basic Multilingual Plane.

Run:  python3 scripts/gen_unicode_tables.py [UCD_DIR] > native/src/unicode_tables.cpp
"""

import os
import re
import sys

MAX_CODEPOINT = 0x110000

# Class bits; must match the enum in native/src/unicode.h.
UNDEFINED = 0x001    # Cn: not assigned
NUMBER = 0x002       # \p{N}
LETTER = 0x004       # \p{L}
SEPARATOR = 0x008    # \p{Z}
MARK = 0x010         # \p{M}
PUNCTUATION = 0x020  # \p{P}
SYMBOL = 0x040       # \p{S}
CONTROL = 0x080      # \p{C} (Cc, Cf, Co, Cs)
WHITESPACE = 0x100   # \s: the White_Space property

CATEGORY_BITS = {
    "C": CONTROL, "L": LETTER, "M": MARK, "N": NUMBER,
    "P": PUNCTUATION, "S": SYMBOL, "Z": SEPARATOR,
}


def category_bits(category):
    if category == "Cn":
        return UNDEFINED
    return CATEGORY_BITS[category[0]]


def read_categories(path):
    """Yields (code point, category); expands the <..., First>/<..., Last> ranges."""
    first = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split(";")
            if len(fields) < 3:
                continue
            cp = int(fields[0], 16)
            name, category = fields[1], fields[2]
            if name.endswith(", First>"):
                first = cp
                continue
            if name.endswith(", Last>"):
                for c in range(first, cp + 1):
                    yield c, category
                first = None
                continue
            yield cp, category


def read_whitespace(path):
    pattern = re.compile(r"^([0-9A-F]+)(?:\.\.([0-9A-F]+))?\s*;\s*White_Space\b")
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = pattern.match(line)
            if m:
                lo = int(m.group(1), 16)
                hi = int(m.group(2), 16) if m.group(2) else lo
                out.extend(range(lo, hi + 1))
    return out


def ucd_version(path):
    with open(path, encoding="utf-8") as f:
        first = f.readline()
    m = re.search(r"PropList-([0-9.]+)\.txt", first)
    return m.group(1) if m else "unknown"


def main():
    ucd = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/unicode"
    data = os.path.join(ucd, "UnicodeData.txt")
    props = os.path.join(ucd, "PropList.txt")

    bits = [UNDEFINED] * MAX_CODEPOINT
    for cp, category in read_categories(data):
        bits[cp] = category_bits(category)
    whitespace = read_whitespace(props)
    if not whitespace:
        sys.exit("no White_Space entries in " + props)
    for cp in whitespace:
        bits[cp] |= WHITESPACE

    ranges = [(0, bits[0])]
    for cp in range(1, MAX_CODEPOINT):
        if bits[cp] != ranges[-1][1]:
            ranges.append((cp, bits[cp]))

    out = sys.stdout
    out.write("// GENERATED FILE: do not edit. Made by scripts/gen_unicode_tables.py from the\n")
    out.write("// Unicode Character Database %s (UnicodeData.txt: general category;\n" % ucd_version(props))
    out.write("// PropList.txt: White_Space). Each entry opens a range of code points that\n")
    out.write("// share one set of class bits, up to the next entry; see unicode.h.\n")
    out.write('#include "unicode.h"\n\n')
    out.write("namespace km::unicode {\n\n")
    out.write("extern const Range kRanges[] = {\n")
    for i in range(0, len(ranges), 4):
        row = ranges[i:i + 4]
        out.write("    " + " ".join("{0x%06X, 0x%03X}," % r for r in row) + "\n")
    out.write("};\n")
    out.write("extern const size_t kRangeCount = sizeof(kRanges) / sizeof(kRanges[0]);\n\n")
    out.write("}  // namespace km::unicode\n")


if __name__ == "__main__":
    main()
