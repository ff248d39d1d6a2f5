// Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999): rewrites a byte string so that
// it contains no 0x00, at a cost of one byte per 254, so 0x00 can end every frame on the wire.
// Each block is a code byte n followed by n-1 data bytes; a block with n < 0xFF stands for its
// data plus one zero, except the last block, whose zero is the implicit end of the data.
// Encoding here returns the block bytes only; the caller appends the 0x00 delimiter.

/** Worst-case encoded size of `n` data bytes. */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.floor(n / 254) + 1;
}

export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(data.length));
  let codeAt = 0; // where the current block's code byte goes
  let o = 1;
  let code = 1;
  for (let i = 0; i < data.length; i++) {
    const b = data[i] as number;
    if (b === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
      continue;
    }
    out[o++] = b;
    code++;
    // A full block (254 data bytes) carries no implicit zero; a fresh block starts only if
    // more data follows, which is what makes the 254-byte case one byte shorter.
    if (code === 0xff && i + 1 < data.length) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/** Decodes one frame's blocks (no 0x00 inside, delimiter removed); null when malformed. */
export function cobsDecode(encoded: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(encoded.length);
  let o = 0;
  let i = 0;
  while (i < encoded.length) {
    const code = encoded[i] as number;
    if (code === 0) return null;
    const end = i + code;
    if (end > encoded.length) return null; // the block claims bytes the frame does not have
    for (let j = i + 1; j < end; j++) {
      const b = encoded[j] as number;
      if (b === 0) return null;
      out[o++] = b;
    }
    i = end;
    if (code !== 0xff && i < encoded.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}
