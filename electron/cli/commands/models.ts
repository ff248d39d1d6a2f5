// keymate models list|import|download|recommended: the model library of the
// data folder (KEYMATE_HOME/models) from the command line. The work is the
// host's (electron/host/models: ModelLibrary, Downloads, the recommended
// list), so the app and the CLI share one folder, one record format and one
// download state machine; this file only parses, reports and maps outcomes
// to exit codes.
//
// `download` is the one long operation. Its --json output is a stream: one
// DownloadState per line as the host emits them (every change of state, and
// progress at most PROGRESS_INTERVAL_MS apart), the last line being the final
// state. On a terminal, stderr shows one progress line redrawn in place. The
// first Ctrl-C pauses: the .part and its record stay, the paused state is
// printed, exit code 130, and running the same command again resumes with an
// HTTP Range request. Only download stops this way; list, import and
// recommended end at once on Ctrl-C like any program (an import is copied
// through a dot temp file that the library removes the next time it opens).
import type { DownloadState, ModelLibraryEntry, RecommendedList } from '../../../common/contract';
import { modelsFolder } from '../../../common/data-home';
import { duration } from '../../../common/units';
import { ModelLibrary } from '../../host/models/library';
import { ModelsService } from '../../host/models/models-service';
import { checkName, libraryPaths, nameFromUrl } from '../../host/models/names';
import { RECOMMENDED } from '../../host/models/recommended';
import { flagName, optionHelp, parseOptions, usageLine, type OptionSpecs, type Parsed, type StringOption } from '../args';
import type { CliIo, Command } from '../command';
import { CliError, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, UsageError, oneLine } from '../errors';
import { dataHome } from '../model-path';
import { bytes, table, writeJson } from '../output';

const json = { kind: 'flag', help: 'print one JSON object on stdout (download: one JSON line per state, the last is the final one)' } as const;

const listSpecs = { json } as const;
const importSpecs = { json } as const;
const recommendedSpecs = { json } as const;
const downloadSpecs = {
  sha256: { kind: 'string', placeholder: 'HEX', help: 'the SHA-256 the file must have (64 hex digits); without it, only the length and GGUF header are checked' } satisfies StringOption,
  name: { kind: 'string', placeholder: 'NAME', help: "the model's name in the library, models/NAME.gguf (default: from the URL's file name)" } satisfies StringOption,
  json,
} as const;

const USAGE = 'keymate models list|import FILE|download URL|ID [--sha256 HEX] [--name NAME]|recommended [--json]';
const LIST_USAGE = usageLine('models list', listSpecs);
const IMPORT_USAGE = 'keymate models import FILE [--json]';
const DOWNLOAD_USAGE = usageLine('models download URL|ID', downloadSpecs);
const RECOMMENDED_USAGE = usageLine('models recommended', recommendedSpecs);

/** Least time between two progress reports of a download (state changes are always reported). */
export const PROGRESS_INTERVAL_MS = 250;

const SHA256 = /^[0-9a-fA-F]{64}$/;
const FINAL_STATES: ReadonlySet<DownloadState['state']> = new Set(['done', 'failed', 'cancelled', 'paused']);

// Set while a download runs, so that main's Ctrl-C handler asks this command
// to stop cleanly (pause) instead of ending the process.
let downloading = false;

export const modelsCommand: Command = {
  name: 'models',
  summary: 'list, import, download (with resume and checksum) and recommend models',
  usage: USAGE,
  help:
    `list: ${LIST_USAGE}\n` +
    `  the models in $KEYMATE_HOME/models, with what the engine read from each, and unfinished downloads\n\n` +
    `import: ${IMPORT_USAGE}\n` +
    `  validates a GGUF and copies it into the library\n\n` +
    `download: ${DOWNLOAD_USAGE}\n${optionHelp(downloadSpecs)}\n` +
    `  ID is a recommended model's id. Ctrl-C pauses; the same command again resumes.\n\n` +
    `recommended: ${RECOMMENDED_USAGE}\n` +
    `  small to 7B instruct models, and whether each fits this machine in each weight format`,
  get interruptible(): boolean {
    return downloading;
  },
  async run(argv, io) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'list':
        return list(rest, io);
      case 'import':
        return importModel(rest, io);
      case 'download':
        downloading = true;
        try {
          return await download(rest, io);
        } finally {
          downloading = false;
        }
      case 'recommended':
        return recommended(rest, io);
      default:
        throw new UsageError(
          sub === undefined ? 'models: say list, import, download or recommended' : `models: unknown subcommand '${oneLine(sub).slice(0, 80)}' (list, import, download, recommended)`,
          USAGE,
        );
    }
  },
};

function folderOf(io: CliIo): string {
  return modelsFolder(dataHome(io.env), process.platform);
}

/** Host errors are already one line "<what>: <what is wrong>": they become CliErrors (exit 1). */
async function asCliError<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    throw e instanceof CliError || e instanceof UsageError ? e : new CliError(e instanceof Error ? e.message : String(e));
  }
}

// ---- list ----

async function list(argv: readonly string[], io: CliIo): Promise<number> {
  const o = parse('models list', LIST_USAGE, listSpecs, argv);
  const folder = folderOf(io);
  const service = await asCliError(ModelsService.open({ folder, emit: () => undefined }));
  try {
    const library = await asCliError(service.list());
    if (o.json) {
      writeJson(io, library);
      return EXIT_OK;
    }
    if (library.models.length === 0 && library.downloads.length === 0) {
      io.stderr.write(`no models in ${folder} yet: keymate models import FILE, or keymate models recommended for some to download\n`);
      return EXIT_OK;
    }
    if (library.models.length > 0) {
      io.stdout.write(
        columns([
          ['NAME', 'SIZE', 'ARCH', 'PARAMS', 'CONTEXT', 'WEIGHTS', 'ORIGIN'],
          ...library.models.map((m) =>
            m.facts === null
              ? [m.name, bytes(m.size_bytes), '-', '-', '-', `unreadable: ${m.problem ?? 'unknown problem'}`, m.origin]
              : [m.name, bytes(m.size_bytes), m.facts.architecture, params(m.facts.parameters), String(m.facts.context_length), weightTypes(m.facts.weight_types), m.origin],
          ),
        ]),
      );
    }
    if (library.downloads.length > 0) {
      io.stdout.write(
        (library.models.length > 0 ? '\n' : '') +
          columns([['DOWNLOAD', 'STATE', 'DONE', 'URL'], ...library.downloads.map((d) => [d.name, d.state, amount(d), d.url])]),
      );
      io.stderr.write('an unfinished download resumes with the same keymate models download command\n');
    }
    return EXIT_OK;
  } finally {
    await service.close();
  }
}

// ---- import ----

async function importModel(argv: readonly string[], io: CliIo): Promise<number> {
  const [file, options] = onePositional('models import', 'FILE', IMPORT_USAGE, importSpecs, argv);
  const o = parse('models import', IMPORT_USAGE, importSpecs, options);
  const library = await asCliError(ModelLibrary.open({ folder: folderOf(io) }));
  const entry = await asCliError(library.import(file));
  if (o.json) writeJson(io, entry);
  else io.stdout.write(entryReport(entry));
  return EXIT_OK;
}

function entryReport(m: ModelLibraryEntry): string {
  const rows: [string, string][] = [
    ['name', m.name],
    ['path', m.path],
    ['size', bytes(m.size_bytes)],
  ];
  if (m.facts !== null) {
    const f = m.facts;
    rows.push(
      ['architecture', f.architecture],
      ['parameters', `${params(f.parameters)} (${f.parameters.toLocaleString('en-US')})`],
      ['shape', `dim ${f.dim}, ${f.layers} layers, ${f.heads} heads, ${f.kv_heads} kv heads, vocab ${f.vocab}`],
      ['weights', weightTypes(f.weight_types)],
      ['context', String(f.context_length)],
      ['chat template', f.chat_template ? 'yes' : 'no'],
    );
  } else {
    rows.push(['problem', m.problem ?? 'the engine could not read it']);
  }
  if (m.sha256 !== null) rows.push(['sha256', m.sha256]);
  if (m.source !== null) rows.push(['from', m.source]);
  return table(rows);
}

// ---- download ----

async function download(argv: readonly string[], io: CliIo): Promise<number> {
  const [target, options] = onePositional('models download', 'URL', DOWNLOAD_USAGE, downloadSpecs, argv);
  const o = parse('models download', DOWNLOAD_USAGE, downloadSpecs, options);
  if (o.sha256 !== undefined && !SHA256.test(o.sha256)) {
    throw new UsageError(`models download: --sha256 must be 64 hex digits, got '${oneLine(o.sha256).slice(0, 80)}'`, DOWNLOAD_USAGE);
  }
  const request = downloadRequest(target, o.name, o.sha256?.toLowerCase());
  const folder = folderOf(io);
  const view = new ProgressView(io, o.json);

  let id: string | null = null;
  const early: DownloadState[] = [];
  let settle: (s: DownloadState) => void = () => undefined;
  const outcome = new Promise<DownloadState>((resolve) => (settle = resolve));
  const onState = (s: DownloadState): void => {
    view.show(s);
    if (FINAL_STATES.has(s.state)) settle(s);
  };
  const service = await asCliError(
    ModelsService.open({
      folder,
      // The id is the library name, known once start() answers; what the
      // host emits before that (the first 'running') waits here.
      emit: (s) => {
        if (id === null) early.push(s);
        else if (s.id === id) onState(s);
      },
      downloads: { progressIntervalMs: PROGRESS_INTERVAL_MS },
    }),
  );
  try {
    checkResumeChecksum(service, folder, request);
    const first = await asCliError(service.start(request));
    id = first.id;
    for (const s of early.splice(0)) if (s.id === first.id) onState(s);
    if (FINAL_STATES.has(first.state)) settle(first);
    const pause = (): void => void service.downloads.pause(first.id).catch(() => undefined);
    if (io.signal.aborted) pause();
    else io.signal.addEventListener('abort', pause, { once: true });
    const end = await outcome;
    io.signal.removeEventListener('abort', pause);
    return view.finish(end);
  } finally {
    await service.close();
  }
}

/** What `download URL|ID` asks for: a URL as given, or a recommended model by its id (or library name). */
export function downloadRequest(target: string, name: string | undefined, sha256: string | undefined): { url: string; name?: string; sha256?: string } {
  const known = /^https?:\/\//i.test(target) ? undefined : RECOMMENDED.find((r) => r.id === target || r.name === target);
  if (known === undefined && !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(target)) {
    throw new CliError(`download: '${oneLine(target).slice(0, 200)}' is neither a URL nor a recommended model's id (keymate models recommended lists them)`);
  }
  const out: { url: string; name?: string; sha256?: string } = { url: known?.url ?? target };
  const chosen = name ?? known?.name;
  if (chosen !== undefined) out.name = chosen;
  if (sha256 !== undefined) out.sha256 = sha256;
  return out;
}

/**
 * A paused download of this URL resumes with the checksum it was started
 * with; a different --sha256 now would otherwise be silently ignored.
 */
function checkResumeChecksum(service: ModelsService, folder: string, request: { url: string; name?: string; sha256?: string }): void {
  if (request.sha256 === undefined) return;
  let name: string;
  try {
    name = request.name !== undefined ? checkName(request.name) : nameFromUrl(new URL(request.url));
  } catch {
    return; // start() reports a bad name or URL in its own words
  }
  const paused = service.downloads.list().find((d) => d.id === name && d.state === 'paused');
  if (paused === undefined || paused.sha256_expected === request.sha256) return;
  const paths = libraryPaths(folder, name);
  throw new CliError(
    `download: ${name}: the unfinished download was started ${paused.sha256_expected === null ? 'without --sha256' : `with --sha256 ${paused.sha256_expected}`}, ` +
      `not ${request.sha256}: run it with that checksum, or remove ${paths.part} and ${paths.partRecord} to start over`,
  );
}

/** How a download reads as it goes: JSON lines on stdout, a redrawn line on a terminal, state changes otherwise. */
class ProgressView {
  private readonly tty: boolean;
  private lineShown = false;
  private lastState: string | null = null;
  private lastNote: string | null = null;

  constructor(
    private readonly io: CliIo,
    private readonly json: boolean,
  ) {
    this.tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  }

  show(s: DownloadState): void {
    if (this.json) writeJson(this.io, s);
    if (s.note !== null && s.note !== this.lastNote) {
      this.clear();
      this.io.stderr.write(`download: ${s.name}: ${s.note}\n`);
    }
    this.lastNote = s.note;
    if (this.tty && !FINAL_STATES.has(s.state)) {
      const columns = (this.io.stderr as { columns?: number }).columns ?? 0; // 0: a terminal that did not say
      const width = Math.max(20, (columns > 0 ? columns : 80) - 1);
      this.io.stderr.write(`\r${fit(progressLine(s), width)}\x1b[K`);
      this.lineShown = true;
    } else if (!this.tty && !this.json && s.state !== this.lastState && s.state !== 'queued' && !FINAL_STATES.has(s.state)) {
      // Without a terminal, one line per change of state: a log, not an animation.
      const line = s.state === 'running' ? `${s.name}: downloading ${s.url}${s.bytes_done > 0 ? `, resuming at ${bytes(s.bytes_done)}` : ''}` : progressLine(s);
      this.io.stderr.write(line + '\n');
    }
    this.lastState = s.state;
  }

  /** The final report and exit code. */
  finish(s: DownloadState): number {
    this.clear();
    switch (s.state) {
      case 'done':
        if (!this.json) {
          this.io.stdout.write(
            table([
              ['downloaded', s.path],
              ['size', bytes(s.bytes_done)],
              ['sha256', `${s.sha256}${s.sha256_expected !== null ? ' (as expected)' : ''}`],
              ['from', s.url],
            ]),
          );
        }
        return EXIT_OK;
      case 'paused':
        this.io.stderr.write(`keymate: download: ${s.name}: paused at ${amount(s)}; run the same command again to resume\n`);
        return EXIT_INTERRUPTED;
      case 'failed':
        this.io.stderr.write(`keymate: ${oneLine(s.error)}\n`);
        return EXIT_ERROR;
      default:
        this.io.stderr.write(`keymate: download: ${s.name}: ended ${s.state}\n`);
        return EXIT_ERROR;
    }
  }

  private clear(): void {
    if (!this.lineShown) return;
    this.io.stderr.write('\r\x1b[K');
    this.lineShown = false;
  }
}

/** One line on what a download is doing, for people. */
export function progressLine(s: DownloadState): string {
  switch (s.state) {
    case 'queued':
      return `${s.name}: queued`;
    case 'running': {
      const pct = s.bytes_total !== null && s.bytes_total > 0 ? `${Math.floor((100 * s.bytes_done) / s.bytes_total)}%  ` : '';
      const rate = s.speed_bps > 0 ? `  ${bytes(s.speed_bps)}/s` : '';
      const eta = s.speed_bps > 0 && s.bytes_total !== null ? `  ${duration((s.bytes_total - s.bytes_done) / s.speed_bps)} left` : '';
      return `${s.name}: ${pct}${amount(s)}${rate}${eta}`;
    }
    case 'retrying':
      return `${s.name}: retrying in ${duration(s.next_ms / 1000)} (attempt ${s.attempt} of ${s.max_attempts}): ${oneLine(s.last_error)}`;
    case 'verifying':
      return `${s.name}: checking ${s.sha256_expected !== null ? 'the checksum and ' : ''}the GGUF header`;
    case 'done':
      return `${s.name}: done, ${s.path}`;
    case 'paused':
      return `${s.name}: paused at ${amount(s)}`;
    case 'failed':
      return oneLine(s.error);
    case 'cancelled':
      return `${s.name}: cancelled`;
  }
}

// ---- recommended ----

async function recommended(argv: readonly string[], io: CliIo): Promise<number> {
  const o = parse('models recommended', RECOMMENDED_USAGE, recommendedSpecs, argv);
  const service = await asCliError(ModelsService.open({ folder: folderOf(io), emit: () => undefined }));
  let r: RecommendedList;
  try {
    r = await asCliError(service.recommended());
  } finally {
    await service.close();
  }
  if (o.json) {
    writeJson(io, r);
    return EXIT_OK;
  }
  io.stdout.write(
    columns([
      ['ID', 'PARAMS', 'FILE', 'SIZE', 'FITS IN', ''],
      ...r.models.map((m) => {
        const fitting = Object.entries(m.fits).filter(([, f]) => f.fits).map(([w]) => w);
        const fits = fitting.length === 0 ? 'none' : fitting.length === Object.keys(m.fits).length ? 'every format' : fitting.join(' ');
        return [m.id, params(m.params), m.quant, bytes(m.size_bytes), fits, m.in_library ? '(in the library)' : ''];
      }),
    ]),
  );
  io.stderr.write(
    `judged against ${r.memory.device} (${r.memory.have_mb} MiB, ${r.memory.where}) with a ${r.memory.context}-token ${r.memory.kv} KV cache\n` +
      (r.network.offline ? `offline: ${r.network.reason ?? 'no network'}\n` : 'keymate models download ID fetches one\n'),
  );
  return EXIT_OK;
}

// ---- helpers ----

/** parseOptions, with the subcommand's own usage line (which names FILE or URL) on its errors. */
function parse<S extends OptionSpecs>(command: string, usage: string, specs: S, argv: readonly string[]): Parsed<S> {
  try {
    return parseOptions(command, specs, argv);
  } catch (e) {
    if (e instanceof UsageError) e.usage = usage;
    throw e;
  }
}

/**
 * Splits argv into its one positional argument (FILE, URL) and the options,
 * so `download --sha256 X URL` and `download URL --sha256 X` both work;
 * everything after `--` is positional.
 */
function onePositional(command: string, what: string, usage: string, specs: OptionSpecs, argv: readonly string[]): [string, string[]] {
  const takesValue = new Set(Object.entries(specs).filter(([, s]) => s.kind !== 'flag').map(([k]) => flagName(k)));
  const positionals: string[] = [];
  const options: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a !== '-') {
      options.push(a);
      const next = argv[i + 1];
      if (takesValue.has(a) && next !== undefined) {
        options.push(next);
        i++;
      }
      continue;
    }
    positionals.push(a);
  }
  const [only, ...extra] = positionals;
  if (only === undefined || only === '') throw new UsageError(`${command}: give the ${what}`, usage);
  if (extra.length > 0) throw new UsageError(`${command}: one ${what} at a time, got ${positionals.length}`, usage);
  return [only, options];
}

/** Left-aligned columns, two spaces apart, no trailing blanks. */
function columns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}

/** 494032768 -> "494M", 7248023552 -> "7.2B". */
function params(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${Math.round(n / 1e6)}M`;
  if (n >= 1e3) return `${Math.round(n / 1e3)}K`;
  return String(n);
}

function weightTypes(types: Readonly<Record<string, number>>): string {
  return Object.entries(types)
    .sort((a, b) => b[1] - a[1])
    .map(([t, n]) => `${t} x${n}`)
    .join(', ');
}

function amount(s: DownloadState): string {
  return s.bytes_total !== null ? `${bytes(s.bytes_done)} of ${bytes(s.bytes_total)}` : bytes(s.bytes_done);
}

function fit(line: string, width: number): string {
  return line.length <= width ? line : line.slice(0, width - 1) + '…';
}
