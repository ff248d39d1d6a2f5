// A fixed-capacity ring of numeric rows (one Float64Array per column), for
// live charts: pushing is O(1) and allocates nothing, so samples can arrive at
// any rate without touching React. `columns()` copies the rows out oldest
// first in the column layout uPlot draws ([x[], y1[], y2[], ...]); missing
// readings are stored as NaN and come out as null, which uPlot draws as a gap.

export class RingBuffer {
  private readonly data: Float64Array[];
  private start = 0;
  private count = 0;

  constructor(
    readonly capacity: number,
    readonly width: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`RingBuffer: capacity must be a positive integer, got ${capacity}`);
    if (!Number.isInteger(width) || width < 1) throw new Error(`RingBuffer: width must be a positive integer, got ${width}`);
    this.data = Array.from({ length: width }, () => new Float64Array(capacity));
  }

  get length(): number {
    return this.count;
  }

  /** Appends one row (width values; null = no reading), dropping the oldest when full. */
  push(row: readonly (number | null)[]): void {
    if (row.length !== this.width) throw new Error(`RingBuffer: a row has ${this.width} values, got ${row.length}`);
    const slot = (this.start + this.count) % this.capacity;
    for (let c = 0; c < this.width; c++) {
      const column = this.data[c] as Float64Array;
      column[slot] = row[c] ?? NaN;
    }
    if (this.count < this.capacity) this.count++;
    else this.start = (this.start + 1) % this.capacity;
  }

  clear(): void {
    this.start = 0;
    this.count = 0;
  }

  /** The latest value of a column, or null when empty or missing. */
  last(column: number): number | null {
    if (this.count === 0) return null;
    const v = (this.data[column] as Float64Array)[(this.start + this.count - 1) % this.capacity] as number;
    return Number.isNaN(v) ? null : v;
  }

  /** Every row, oldest first, one array per column. */
  columns(): (number | null)[][] {
    return this.data.map((column) => {
      const out = new Array<number | null>(this.count);
      for (let i = 0; i < this.count; i++) {
        const v = column[(this.start + i) % this.capacity] as number;
        out[i] = Number.isNaN(v) ? null : v;
      }
      return out;
    });
  }
}
