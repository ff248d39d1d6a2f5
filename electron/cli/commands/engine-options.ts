// The options every engine-running command shares (generate, bench), declared
// once so they read and check the same everywhere.
import { BACKENDS, KV_FORMATS, WEIGHT_FORMATS } from '../../../common/formats';
import type { NativeLoadOptions } from '../../host/engine/native';
import type { EnumOption, NumberOption } from '../args';

export const engineOptionSpecs = {
  backend: { kind: 'enum', choices: BACKENDS, default: 'auto', help: 'where to run: auto picks CUDA when available' } satisfies EnumOption<(typeof BACKENDS)[number]>,
  weights: { kind: 'enum', choices: WEIGHT_FORMATS, default: 'native', help: 'weight format to run (native = as in the file)' } satisfies EnumOption<(typeof WEIGHT_FORMATS)[number]>,
  kv: { kind: 'enum', choices: KV_FORMATS, default: 'f16', help: 'KV cache format' } satisfies EnumOption<(typeof KV_FORMATS)[number]>,
  threads: { kind: 'int', placeholder: 'N', min: 0, max: 1024, default: 0, help: 'CPU threads (0 = physical cores)' } satisfies NumberOption,
} as const;

export function loadOptions(o: {
  backend: (typeof BACKENDS)[number];
  weights: string;
  kv: string;
  threads: number;
}): NativeLoadOptions {
  return { backend: o.backend, weights: o.weights, kv: o.kv, threads: o.threads };
}
