// What the benchmark scripts share in reading their command lines.

/** The integer value of option `name`, at least `min`; a one-line error naming the option otherwise. */
export function intOption(name: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min} (got ${String(value)})`);
  return n;
}
