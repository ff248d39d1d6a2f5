// The options every engine-running command shares (generate, bench), declared
// once so they read and check the same everywhere.
import * as path from 'node:path';

import { BACKENDS, KV_FORMATS, WEIGHT_FORMATS } from '../../../common/formats';
import type { NativeLoadOptions } from '../../host/engine/native';
import type { EnumOption, NumberOption, StringOption } from '../args';
import { dataHome } from '../model-path';

export const engineOptionSpecs = {
  backend: { kind: 'enum', choices: BACKENDS, default: 'auto', help: 'where to run: auto picks CUDA when available' } satisfies EnumOption<(typeof BACKENDS)[number]>,
  weights: { kind: 'enum', choices: WEIGHT_FORMATS, default: 'native', help: 'weight format to run (native = as in the file)' } satisfies EnumOption<(typeof WEIGHT_FORMATS)[number]>,
  kv: { kind: 'enum', choices: KV_FORMATS, default: 'f16', help: 'KV cache format' } satisfies EnumOption<(typeof KV_FORMATS)[number]>,
  threads: { kind: 'int', placeholder: 'N', min: 0, max: 1024, default: 0, help: 'CPU threads (0 = physical cores)' } satisfies NumberOption,
  imatrix: { kind: 'string', placeholder: 'auto|off|FILE', default: 'auto', help: 'importance for 4-bit weights: auto measures it once per model (kept in $KEYMATE_HOME/imatrix) for the scale search and the error feedback; FILE is an imatrix GGUF (llama-imatrix: the scale search only)' } satisfies StringOption,
} as const;

export function loadOptions(
  o: {
    backend: (typeof BACKENDS)[number];
    weights: string;
    kv: string;
    threads: number;
    imatrix: string;
  },
  env: NodeJS.ProcessEnv,
): NativeLoadOptions {
  const imatrixCache = path.join(dataHome(env), 'imatrix');
  return { backend: o.backend, weights: o.weights, kv: o.kv, threads: o.threads, imatrix: o.imatrix, imatrixCache };
}
