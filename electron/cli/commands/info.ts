// keymate info: what this build and machine can run (backends, CUDA devices
// and why not, NVML), and with --model what a model file holds. The model is
// opened on the CPU with a tiny context: enough to read it, without
// allocating a GPU or a full KV cache just to print facts.
// Its memory plan (weights, KV cache, activations, reserve) comes from the
// engine's plan_memory, which reads the GGUF header only. "fits" is judged
// against --vram MB, else against the first CUDA device; with neither it is
// left out and `reason` says why, rather than guessing a GPU.
import { probeBackends, planMemory, NativeEngine } from '../../host/engine/native-engine';
import type { NativeBackendReport, NativeMemoryPlan, NativeModelInfo } from '../../host/engine/native';
import { loadAddon } from '../../host/engine/load-addon';
import { packageVersion } from '../../host/engine/package-root';
import { optionHelp, parseOptions, usageLine, type NumberOption, type StringOption } from '../args';
import type { Command } from '../command';
import { EXIT_OK } from '../errors';
import { resolveModelPath } from '../model-path';
import { bytes, table, writeJson } from '../output';
import { engineOptionSpecs } from './engine-options';

const specs = {
  model: { kind: 'string', placeholder: 'PATH', help: 'also describe this GGUF model' } satisfies StringOption,
  weights: { ...engineOptionSpecs.weights, help: 'with --model: weight format of the memory plan' },
  kv: { ...engineOptionSpecs.kv, help: 'with --model: KV cache format of the memory plan' },
  context: { kind: 'int', placeholder: 'N', min: 0, max: 1 << 24, default: 0, help: "with --model: tokens the KV cache is planned for (0 = the model's context)" } satisfies NumberOption,
  vram: { kind: 'int', placeholder: 'MB', min: 1, max: 1 << 30, help: 'with --model: GPU memory in MiB to plan against (default: the first CUDA device)' } satisfies NumberOption,
  json: { kind: 'flag', help: 'print one JSON object on stdout' },
} as const;

/** NVML as `info` reports it: whether GPU telemetry can be read here, and why not. */
export interface NvmlStatus {
  available: boolean;
  reason: string;
}

// NVML is opened (dlopen of the driver's library) only to see whether it can
// be, then closed: info reads nothing else from it.
function probeNvml(): NvmlStatus {
  const addon = loadAddon();
  const r = addon.nvmlOpen();
  addon.nvmlClose();
  return { available: r.available, reason: r.reason };
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'show backends, devices and (with --model) what a model holds',
  usage: usageLine('info', specs),
  help: optionHelp(specs),
  async run(argv, io) {
    const o = parseOptions('info', specs, argv);
    const backends = probeBackends();
    let model: ModelDescription | undefined;
    if (o.model !== undefined) {
      const file = resolveModelPath(o.model, io.env);
      const engine = await NativeEngine.load(file, { backend: 'cpu', threads: 1, context: 16 });
      let info: NativeModelInfo;
      try {
        info = engine.info();
      } finally {
        engine.close();
      }
      const vram = planVram(backends, o.vram);
      const plan = planMemory(file, { weights: o.weights, kv: o.kv, context: o.context, vramBytes: vram.mb * MIB });
      model = { info, plan, vram };
    }
    const nvml = probeNvml();
    const json = infoJson(packageVersion(), backends, model, nvml);
    if (o.json) writeJson(io, json);
    else io.stdout.write(infoReport(packageVersion(), backends, model, nvml));
    return EXIT_OK;
  },
};

const MIB = 1024 * 1024;

/** The GPU memory a plan is judged against: mb 0 means none, and `reason` says why. */
interface PlanVram {
  mb: number;
  source: string;
  reason: string;
}

export interface ModelDescription {
  info: NativeModelInfo;
  plan: NativeMemoryPlan;
  vram: PlanVram;
}

function planVram(b: NativeBackendReport, vramMb: number | undefined): PlanVram {
  if (vramMb !== undefined) return { mb: vramMb, source: '--vram', reason: '' };
  const gpu = b.cuda.available ? b.cuda.devices[0] : undefined;
  if (gpu !== undefined) return { mb: gpu.memoryMb, source: `gpu 0 (${gpu.name})`, reason: '' };
  const why = b.cuda.available ? 'no CUDA device' : `CUDA is not available (${b.cuda.reason})`;
  return { mb: 0, source: '', reason: `${why} and no --vram MB was given, so whether it fits is not known` };
}

function memoryPlanJson(plan: NativeMemoryPlan, vram: PlanVram): Record<string, unknown> {
  const out: Record<string, unknown> = {
    weights: plan.weights,
    kv: plan.kv,
    context: plan.context,
    weights_bytes: plan.weightsBytes,
    kv_bytes_per_token: plan.kvBytesPerToken,
    kv_bytes: plan.kvBytes,
    activation_bytes: plan.activationBytes,
    reserve_bytes: plan.reserveBytes,
    total_bytes: plan.totalBytes,
  };
  if (vram.mb > 0) {
    out['vram_mb'] = vram.mb;
    out['fits'] = plan.fits;
    out['max_context'] = plan.maxContext;
  } else {
    out['reason'] = vram.reason;
  }
  return out;
}

export function infoJson(version: string, b: NativeBackendReport, model: ModelDescription | undefined, nvml: NvmlStatus): Record<string, unknown> {
  const out: Record<string, unknown> = {
    version,
    backends: {
      cpu: { available: b.cpu.available, simd: b.cpu.simd, threads: b.cpu.threads },
      cuda: {
        compiled: b.cuda.compiled,
        archs: b.cuda.archs,
        available: b.cuda.available,
        reason: b.cuda.reason,
        devices: b.cuda.devices.map((d) => ({ name: d.name, cc: d.cc, memory_mb: d.memoryMb, driver: d.driver })),
      },
    },
    nvml: { available: nvml.available, reason: nvml.reason },
  };
  if (model !== undefined) {
    const m = model.info;
    out['model'] = {
      architecture: m.architecture,
      parameters: m.parameters,
      tensor_types: m.tensorTypes,
      context_length: m.contextLength,
      vocab: m.vocab,
      memory_plan: memoryPlanJson(model.plan, model.vram),
    };
  }
  return out;
}

function infoReport(version: string, b: NativeBackendReport, model: ModelDescription | undefined, nvml: NvmlStatus): string {
  const rows: [string, string][] = [
    ['keymate', version],
    ['cpu', `${b.cpu.available ? 'available' : 'not available'}, ${b.cpu.simd}, ${b.cpu.threads} threads`],
    [
      'cuda',
      (b.cuda.compiled ? `compiled for sm_${b.cuda.archs.join(', sm_')}` : 'not compiled') +
        (b.cuda.available ? ', available' : `, not available: ${b.cuda.reason}`),
    ],
    ...b.cuda.devices.map((d, i): [string, string] => [`gpu ${i}`, `${d.name}, sm_${d.cc}, ${d.memoryMb} MiB, driver ${d.driver}`]),
    ['nvml', nvml.available ? 'available (GPU telemetry)' : `not available: ${nvml.reason}`],
  ];
  if (model !== undefined) {
    const { info: m, plan: p, vram } = model;
    const types = Object.entries(m.tensorTypes).map(([t, n]) => `${t} x${n}`).join(', ');
    rows.push(
      ['model', `${m.path} (${m.architecture}${m.name !== '' ? `, ${m.name}` : ''})`],
      ['parameters', m.parameters.toLocaleString('en-US')],
      ['shape', `dim ${m.dim}, ${m.layers} layers, ${m.heads} heads, ${m.kvHeads} kv heads, ffn ${m.ffn}`],
      ['tensors', types],
      ['context', String(m.contextLength)],
      ['vocab', `${m.vocab} (${m.tokenizer})`],
      ['weights', bytes(m.weightBytes)],
      ['memory plan', `weights ${p.weights}, kv ${p.kv}, context ${p.context}`],
      ['  weights', bytes(p.weightsBytes)],
      ['  kv cache', `${bytes(p.kvBytes)} (${bytes(p.kvBytesPerToken)} per token)`],
      ['  activations', bytes(p.activationBytes)],
      ['  reserve', bytes(p.reserveBytes)],
      ['  total', bytes(p.totalBytes)],
      [
        '  fits',
        vram.mb > 0
          ? `${p.fits ? 'yes' : 'no'}, in ${vram.mb} MiB (${vram.source}); longest context that fits: ${p.maxContext}`
          : vram.reason,
      ],
    );
  }
  return table(rows);
}
