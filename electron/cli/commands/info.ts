// keymate info: what this build and machine can run (backends, CUDA devices
// and why not, NVML), and with --model what a model file holds. The model is
// opened on the CPU with a tiny context: enough to read it, without
// allocating a GPU or a full KV cache just to print facts.
import { probeBackends, Engine, type BackendReport, type ModelInfo } from '../../host/engine/engine';
import { packageVersion } from '../../host/engine/package-root';
import { optionHelp, parseOptions, usageLine, type StringOption } from '../args';
import type { Command } from '../command';
import { EXIT_OK } from '../errors';
import { resolveModelPath } from '../model-path';
import { bytes, table, writeJson } from '../output';

const specs = {
  model: { kind: 'string', placeholder: 'PATH', help: 'also describe this GGUF model' } satisfies StringOption,
  json: { kind: 'flag', help: 'print one JSON object on stdout' },
} as const;

// GPU telemetry (NVML, loaded with dlopen) is its own piece of work and not
// in this build; say so instead of guessing.
const NVML = { available: false, reason: 'this build does not read NVML yet (GPU telemetry is not implemented)' };

export const infoCommand: Command = {
  name: 'info',
  summary: 'show backends, devices and (with --model) what a model holds',
  usage: usageLine('info', specs),
  help: optionHelp(specs),
  async run(argv, io) {
    const o = parseOptions('info', specs, argv);
    const backends = probeBackends();
    let model: ModelInfo | undefined;
    if (o.model !== undefined) {
      const engine = await Engine.load(resolveModelPath(o.model, io.env), { backend: 'cpu', threads: 1, context: 16 });
      try {
        model = engine.info();
      } finally {
        engine.close();
      }
    }
    const json = infoJson(packageVersion(), backends, model);
    if (o.json) writeJson(io, json);
    else io.stdout.write(infoReport(packageVersion(), backends, model));
    return EXIT_OK;
  },
};

export function infoJson(version: string, b: BackendReport, model: ModelInfo | undefined): Record<string, unknown> {
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
    nvml: NVML,
  };
  if (model !== undefined) {
    out['model'] = {
      architecture: model.architecture,
      parameters: model.parameters,
      tensor_types: model.tensorTypes,
      context_length: model.contextLength,
      vocab: model.vocab,
      // The full plan (weights + KV cache against GPU memory) comes with
      // quantized formats; the weights as held are known now.
      memory_plan: { weights_bytes: model.weightBytes },
    };
  }
  return out;
}

function infoReport(version: string, b: BackendReport, model: ModelInfo | undefined): string {
  const rows: [string, string][] = [
    ['keymate', version],
    ['cpu', `${b.cpu.available ? 'available' : 'not available'}, ${b.cpu.simd}, ${b.cpu.threads} threads`],
    [
      'cuda',
      (b.cuda.compiled ? `compiled for sm_${b.cuda.archs.join(', sm_')}` : 'not compiled') +
        (b.cuda.available ? ', available' : `, not available: ${b.cuda.reason}`),
    ],
    ...b.cuda.devices.map((d, i): [string, string] => [`gpu ${i}`, `${d.name}, sm_${d.cc}, ${d.memoryMb} MiB, driver ${d.driver}`]),
    ['nvml', NVML.reason],
  ];
  if (model !== undefined) {
    const types = Object.entries(model.tensorTypes).map(([t, n]) => `${t} x${n}`).join(', ');
    rows.push(
      ['model', `${model.path} (${model.architecture}${model.name !== '' ? `, ${model.name}` : ''})`],
      ['parameters', model.parameters.toLocaleString('en-US')],
      ['shape', `dim ${model.dim}, ${model.layers} layers, ${model.heads} heads, ${model.kvHeads} kv heads, ffn ${model.ffn}`],
      ['tensors', types],
      ['context', String(model.contextLength)],
      ['vocab', `${model.vocab} (${model.tokenizer})`],
      ['weights', bytes(model.weightBytes)],
    );
  }
  return table(rows);
}
