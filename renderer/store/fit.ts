// The memory plan of one model, summed up in a line: which weight formats fit
// this machine and the range of memory they need against what there is. The
// per-format detail is FitList's; this is the sentence a person reads first.
import type { FormatFit } from '../../common/contract';
import { bytes } from '../app/format';

const mb = (v: number): string => bytes(v * 1024 * 1024);

function needs(list: [string, FormatFit][]): string {
  const n = list.map(([, f]) => f.need_mb);
  const lo = Math.min(...n);
  const hi = Math.max(...n);
  return lo === hi ? mb(lo) : `${mb(lo)}–${mb(hi)}`;
}

/** "Fits in every format: …", "Fits as int4, nf4 (…); too big as f16", "Too big in every format: …". */
export function fitSummary(fits: Record<string, FormatFit>): string {
  const all = Object.entries(fits);
  const first = all[0]?.[1];
  if (first === undefined) return 'No memory plan';
  const have = `${mb(first.have_mb)} ${first.where === 'gpu' ? 'GPU memory' : 'RAM'}`;
  const yes = all.filter(([, f]) => f.fits);
  const no = all.filter(([, f]) => !f.fits);
  if (no.length === 0) return `Fits in every format: needs ${needs(yes)} of ${have}`;
  if (yes.length === 0) return `Too big in every format: needs ${needs(no)} of ${have}`;
  return `Fits as ${yes.map(([k]) => k).join(', ')} (${needs(yes)} of ${have}); too big as ${no.map(([k]) => k).join(', ')}`;
}
