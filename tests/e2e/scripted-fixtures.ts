// What the scripted host says: a plausible laptop with an RTX 4060 running a
// 1B model, deterministic (a seeded generator), every value valid under the
// contract (the scripted host checks them all before sending).
import {
  CONTRACT_VERSION,
  DEFAULT_SETTINGS,
  type AppState,
  type BenchSummary,
  type DeviceStatus,
  type EngineStatus,
  type HistoryEntry,
  type ModelListing,
  type RecommendedList,
  type ResponseOf,
  type PerformanceRecord,
  type TelemetrySample,
} from '../../common/contract';

export const NOW = Date.UTC(2025, 10, 21, 18, 30, 0);

function generator(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

export const MODEL_PATH = '/home/ada/.config/Keymate/models/Llama-3.2-1B-Instruct-Q8_0.gguf';

export const engine: EngineStatus = {
  state: 'ready',
  message: null,
  model: {
    path: MODEL_PATH,
    name: 'Llama-3.2-1B-Instruct-Q8_0',
    architecture: 'llama',
    parameters: 1_235_814_400,
    weight_bytes: 1_321_082_528,
    tensor_types: { q8_0: 113, f32: 34 },
    context_length: 131072,
    vocab: 128256,
    layers: 16,
    dim: 2048,
    heads: 32,
    kv_heads: 8,
    tokenizer: 'gpt2',
    chat_template: true,
    thinking_switch: false,
  },
  backend: { name: 'cuda', device: 'NVIDIA GeForce RTX 4060 Laptop GPU (sm_89, 8 GB)', context: 4096, weights: 'fp8', kv: 'f16' },
};

export const device: DeviceStatus = {
  state: 'connected',
  connected: true,
  port: '/dev/ttyACM0',
  reason: null,
  device: { device_id: 'km-75-0042', firmware: '1.4.2', protocol: 1, capabilities: { key: true, gpio: true, text: true, led: true, display: true } },
  attempt: 0,
  retry_in_ms: null,
  frames: 18234,
  frame_errors: { total: 3, by_kind: { crc: 2, cobs: 1 } },
  retransmits: 1,
  clock_rtt_ms: 0.18,
};

export type GpuSample = Extract<TelemetrySample, { available: true }>;

export function telemetry(tMs: number, i: number): GpuSample {
  const load = 0.5 + 0.5 * Math.sin(i / 9);
  return {
    available: true,
    t_ms: tMs,
    gpu: 'NVIDIA GeForce RTX 4060 Laptop GPU',
    power_w: 18 + 52 * load,
    power_limit_w: 80,
    temp_c: 52 + 18 * load,
    fan_pct: 28 + 20 * load,
    sm_clock_mhz: 1800 + 700 * load,
    mem_clock_mhz: 8001,
    mem_used_mb: 2380,
  };
}

export function records(n: number): PerformanceRecord[] {
  const rand = generator(7);
  return Array.from({ length: n }, (_, i) => {
    const ttft = 6.5 + rand() * 5 + (rand() < 0.15 ? 8 + rand() * 6 : 0);
    const profiled = i % 10 === 0;
    return {
      press_id: `p${1000 + i}`,
      t_ms: NOW - (n - i) * 47_000,
      source: i % 7 === 0 ? 'screen' : 'keyboard',
      model: 'Llama-3.2-1B-Instruct-Q8_0',
      backend: 'cuda',
      stop: i % 9 === 0 ? 'cancelled' : 'eos',
      timings: {
        ttft_ms: ttft,
        prefill_ms: ttft - 1.1,
        decode_tok_s: 150 + rand() * 20,
        prompt_tokens: 52 + Math.floor(rand() * 20),
        cached_tokens: 41,
        tokens: 20 + Math.floor(rand() * 80),
        host_ms: 0.3 + rand() * 0.3,
        link_ms: 1.2 + rand(),
        e2e_ms: ttft + 1.9 + rand(),
        stages_ms: profiled ? { embed: 0.02, qkv: 0.92, attention: 0.81, ffn: 3.05, logits: 1.12, sampling: 0.05, other: 0.21 } : null,
      },
    };
  });
}

export const history: HistoryEntry[] = [
  {
    press_id: 'p1039',
    t_ms: NOW - 47_000,
    source: 'keyboard',
    prompt: 'rewrite: meeting moved to thu 3pm, same room',
    completion: 'The meeting has moved to Thursday at 3 pm, in the same room.',
    stop: 'eos',
    model: 'Llama-3.2-1B-Instruct-Q8_0',
    ttft_ms: 7.8,
    tokens: 17,
  },
  {
    press_id: 'p1038',
    t_ms: NOW - 94_000,
    source: 'screen',
    prompt: 'What is the capital of Australia?',
    completion: 'Canberra.',
    stop: 'eos',
    model: 'Llama-3.2-1B-Instruct-Q8_0',
    ttft_ms: 7.1,
    tokens: 4,
  },
];

export const bench: BenchSummary = {
  backend: 'cuda',
  device: 'NVIDIA GeForce RTX 4060 Laptop GPU',
  prompt_tokens: 128,
  gen_tokens: 64,
  ttft_ms: { min: 6.8, median: 7.4, p90: 8.9 },
  prefill_tok_s: 9800,
  decode_tok_s: 162,
  decode_ms_per_token: 6.17,
  stages_ms: { embed: 0.02, qkv: 0.95, attention: 0.78, ffn: 3.12, logits: 1.08, sampling: 0.04, other: 0.18 },
  bound_ms: 4.9,
  bandwidth_gb_s: 256,
};

export function appState(): AppState {
  return {
    contract: CONTRACT_VERSION,
    version: '0.1.0',
    transport: 'websocket',
    session: { state: 'idle', press_id: null, typed: '', message: null },
    key: { down: false, source: null, t_ms: 0 },
    reply: null,
    conversation: { id: 'c0-1', title: '', created_ms: 0, updated_ms: 0, turns: [], context_from: 0 },
    engine,
    remote: { state: 'off', url: '', model: null, models: [], key: 'none', message: null },
    api: { state: 'off', api_base: null, key: 'km-scripted-key-0000000000000000', key_file: '/home/user/.config/keymate/api-key', message: null },
    device,
    settings: { ...DEFAULT_SETTINGS, model: MODEL_PATH, backend: 'cuda', weights: 'fp8', serial_port: '/dev/ttyACM0' },
    telemetry: telemetry(NOW, 0),
    notices: [
      {
        id: 0,
        t_ms: NOW - 60_000,
        level: 'warning',
        code: 'settings-corrupt',
        message: 'settings.json could not be read (unexpected end of JSON): it was kept as settings.json.corrupt-1763749800000 and the defaults are in use.',
      },
    ],
  };
}

// The models: two downloaded into the library and one given on the command
// line, each with its header facts; one download running and one waiting to
// retry; a 7B that fits the 4060 only in 4-bit formats; the selected 1B's
// memory plan.
const facts = { architecture: 'llama', parameters: 1_235_814_400, weight_types: { q8_0: 113, f32: 34 }, context_length: 131_072, chat_template: true, layers: 16, dim: 2048, heads: 32, kv_heads: 8, vocab: 128_256 };
const fit = (need_mb: number) => ({ fits: need_mb <= 7500, need_mb, have_mb: 8188, where: 'gpu' as const });
const MEMORY = { where: 'gpu' as const, device: 'NVIDIA GeForce RTX 4060 Laptop GPU', have_mb: 8188, context: 4096, kv: 'f16' };
const download = { url: 'https://huggingface.co/Qwen/Qwen2.5-7B-Instruct-GGUF/resolve/main/qwen2.5-7b-instruct-q4_k_m.gguf', sha256_expected: null, note: null };
const downloaded = { origin: 'downloaded' as const, source: null, sha256: null, added_ms: NOW - 86_400_000, problem: null };

export const listing: ModelListing = {
  models: [
    { ...downloaded, path: MODEL_PATH, name: 'Llama-3.2-1B-Instruct-Q8_0', size_bytes: 1_321_082_528, facts, selected: true },
    {
      ...downloaded,
      path: '/home/ada/.config/Keymate/models/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf',
      name: 'Qwen2.5-0.5B-Instruct-Q4_K_M',
      size_bytes: 397_808_192,
      facts: { ...facts, parameters: 494_032_768, weight_types: { q4_K: 145, q6_K: 24, f32: 121 }, context_length: 32_768, layers: 24, dim: 896, heads: 14, kv_heads: 2, vocab: 151_936 },
      selected: false,
    },
    {
      path: '/home/ada/models/stories260K.gguf',
      name: 'stories260K',
      size_bytes: 1_185_376,
      origin: 'command-line',
      source: null,
      sha256: null,
      added_ms: null,
      facts: { ...facts, parameters: 292_992, weight_types: { f32: 48 }, context_length: 512, chat_template: false, layers: 5, dim: 64, heads: 8, kv_heads: 4, vocab: 512 },
      problem: null,
      selected: false,
    },
  ],
  downloads: [
    { ...download, id: 'd1', name: 'qwen2.5-7b-instruct-q4_k_m', file: '/home/ada/.config/Keymate/models/qwen2.5-7b-instruct-q4_k_m.gguf', state: 'running', bytes_done: 1_900_000_000, bytes_total: 4_683_073_536, speed_bps: 23_500_000 },
    { ...download, id: 'd2', url: 'https://huggingface.co/x/y/resolve/main/smollm2-360m-instruct-q8_0.gguf', name: 'smollm2-360m-instruct-q8_0', file: '/home/ada/.config/Keymate/models/smollm2-360m-instruct-q8_0.gguf', state: 'retrying', bytes_done: 120_000_000, bytes_total: 386_000_000, speed_bps: 0, attempt: 2, max_attempts: 6, next_ms: 2000, last_error: 'HTTP 503 from huggingface.co' },
  ],
};

export const recommended: RecommendedList = {
  models: [
    {
      id: 'qwen2.5-7b-instruct-q4_k_m',
      title: 'Qwen2.5 7B Instruct (Q4_K_M)',
      url: download.url,
      name: 'qwen2.5-7b-instruct-q4_k_m',
      sha256: null,
      size_bytes: 4_683_073_536,
      params: 7_615_616_512,
      quant: 'Q4_K_M',
      license: 'Apache-2.0',
      shape: { layers: 28, dim: 3584, heads: 28, kv_heads: 4, ffn: 18_944, vocab: 152_064, context_length: 32_768 },
      fits: { native: fit(5050), f16: fit(15_400), fp8: fit(8180), 'int8-g128': fit(8400), 'int4-g128': fit(5230), 'nf4-g128': fit(5230) },
      in_library: false,
    },
  ],
  memory: MEMORY,
  network: { offline: false, reason: null },
};

export const modelPlan: ResponseOf<'models.plan'> = {
  path: MODEL_PATH,
  fits: { native: fit(1960), f16: fit(3050), fp8: fit(1900), 'int4-g128': fit(1480) },
  memory: MEMORY,
};
