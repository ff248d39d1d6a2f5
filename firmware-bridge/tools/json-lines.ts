// The JSON lines the device commands print: snake_case keys, as every keymate JSON output.

export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

/** One object as one line, keys turned to snake_case (one level deep, plus nested objects). */
export function jsonLine(value: Record<string, unknown>): string {
  return JSON.stringify(value, function (this: unknown, _key, v: unknown) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [snakeCase(k), x]));
  }) + '\n';
}

/** Splits "verb rest of line" into the verb and the rest, trimmed. */
export function splitCommand(line: string): [string, string] {
  const trimmed = line.trim();
  const space = trimmed.search(/\s/);
  return space < 0 ? [trimmed, ''] : [trimmed.slice(0, space), trimmed.slice(space + 1).trim()];
}
