// The memory plan of one GGUF on disk, in the same terms as the recommended
// models (recommended.ts): for each weight format the engine runs, whether
// weights + KV cache (the key-press context, at most the model's own) +
// activations + runtime reserve fit the first GPU, or system memory without
// one. Read from the file's header by the engine (planMemory); nothing loads.
import * as os from 'node:os';

import type { FormatFit, ResponseOf } from '../../../common/contract';
import { engineFormats, planMemory, probeBackends } from '../engine/native-engine';
import type { NativeBackendReport, NativeFormatList, NativeMemoryPlan, NativePlanMemoryOptions } from '../engine/native';
import { PLAN_CONTEXT, PLAN_KV, memoryTarget } from './recommended';

const MIB = 1024 * 1024;

export interface FilePlanDeps {
  backends?: () => NativeBackendReport;
  formats?: () => NativeFormatList;
  plan?: (path: string, options: NativePlanMemoryOptions) => NativeMemoryPlan;
  totalmem?: () => number;
}

export function filePlan(path: string, deps: FilePlanDeps = {}): ResponseOf<'models.plan'> {
  const target = memoryTarget((deps.backends ?? probeBackends)(), (deps.totalmem ?? os.totalmem)());
  const plan = deps.plan ?? planMemory;
  // context 0 plans the model's own context: that says how long it is.
  const context = Math.max(1, Math.min(PLAN_CONTEXT, plan(path, { context: 0, kv: PLAN_KV }).context));
  const fits: Record<string, FormatFit> = {};
  for (const weights of (deps.formats ?? engineFormats)().weights.filter((f) => f.sameAs === '').map((f) => f.name)) {
    const p = plan(path, { weights, kv: PLAN_KV, context, vramBytes: target.bytes });
    fits[weights] = { fits: p.fits, need_mb: Math.ceil(p.totalBytes / MIB), have_mb: Math.floor(target.bytes / MIB), where: target.where };
  }
  return { path, fits, memory: { where: target.where, device: target.device, have_mb: Math.floor(target.bytes / MIB), context, kv: PLAN_KV } };
}
