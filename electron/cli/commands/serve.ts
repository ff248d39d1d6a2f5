// keymate serve [--port N] [--model PATH] [--device PATH] [--remote BASE_URL
// [--remote-model NAME]] [--new-api-key] [--json]: the host with its UI and
// the OpenAI-compatible API on loopback
// (DESIGN.md, docs/api.md). The first stdout line is always
// {"url": "http://127.0.0.1:N/?token=...", "api_base": "http://127.0.0.1:N/v1",
// "api_key": "km-..."}: the address to open (it carries the per-launch
// token), and where and with which key OpenAI clients connect (the key is
// kept in the data folder across starts); what a person watching wants to
// know (notices, the keyboard coming and going) goes to stderr. With
// --remote, presses and API requests go to that OpenAI-compatible server
// (its key in KEYMATE_REMOTE_API_KEY) instead of the local engine. Runs until
// Ctrl-C, then stops the reply in progress, flushes settings and history,
// and exits 0.
import * as path from 'node:path';

import { normalizeBaseUrl } from '../../host/remote/openai-client';
import { packageRoot } from '../../host/engine/package-root';
import { Host } from '../../host/host';
import { LoopbackServer } from '../../host/transport/ws-server';
import { optionHelp, parseOptions, usageLine } from '../args';
import type { Command } from '../command';
import { CliError, EXIT_OK, UsageError } from '../errors';
import { dataHome, resolveModelPath } from '../model-path';
import { writeJson } from '../output';

const specs = {
  port: { kind: 'int', placeholder: 'N', min: 0, max: 65535, default: 0, help: 'TCP port on 127.0.0.1 (0 = any free port)' },
  model: { kind: 'string', placeholder: 'PATH', help: "model to run for this session (else the settings' choice)" },
  device: { kind: 'string', placeholder: 'PATH', help: 'the keyboard\'s serial port, e.g. the simulator\'s --link (else the settings\' port, else found by USB id)' },
  remote: { kind: 'string', placeholder: 'BASE_URL', help: 'answer with this OpenAI-compatible server instead of the local engine (e.g. http://gpu-box:8000/v1; its key in KEYMATE_REMOTE_API_KEY)' },
  remoteModel: { kind: 'string', placeholder: 'NAME', help: "the remote's model to use (default: the first it lists)" },
  newApiKey: { kind: 'flag', help: 'replace the API key kept in the data folder with a new one (clients need the new one)' },
  json: { kind: 'flag', help: 'nothing but the {"url", "api_base", "api_key"} line on stdout (it is printed either way)' },
} as const;

const usage = usageLine('serve', specs);

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the host with its UI and an OpenAI-compatible API on loopback',
  usage,
  help: optionHelp(specs) + '\n  KEYMATE_RENDERER sets the folder of the built UI (default dist/renderer).',
  interruptible: true,
  async run(argv, io) {
    const o = parseOptions('serve', specs, argv);
    const model = o.model !== undefined ? path.resolve(resolveModelPath(o.model, io.env)) : null;
    const home = dataHome(io.env);
    const say = (line: string): void => {
      io.stderr.write(line + '\n');
    };
    if (o.remoteModel !== undefined && o.remote === undefined) throw new UsageError('serve: --remote-model needs --remote BASE_URL', usage);
    let remote: { url: string; model: string } | null = null;
    if (o.remote !== undefined) {
      try {
        remote = { url: normalizeBaseUrl(o.remote), model: o.remoteModel ?? '' };
      } catch (e) {
        throw new UsageError(`serve: --remote: ${e instanceof Error ? e.message : String(e)}`, usage);
      }
    }
    let host: Host;
    try {
      host = await Host.start({ home, transport: 'websocket', model, device: o.device ?? null, log: say, remote, env: io.env, renewApiKey: o.newApiKey });
    } catch (e) {
      throw new CliError(`serve: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (host.api.problem !== null) {
      await host.stop();
      throw new CliError(`serve: ${host.api.problem}`);
    }
    const apiKey = host.api.apiKey;
    let server: LoopbackServer;
    try {
      const rendererDir = io.env['KEYMATE_RENDERER'] ?? path.join(packageRoot(), 'dist', 'renderer');
      server = await LoopbackServer.start({ host, port: o.port, rendererDir: path.resolve(rendererDir), api: host.api.server });
    } catch (e) {
      await host.stop();
      const why = (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? `port ${o.port} is in use` : e instanceof Error ? e.message : String(e);
      throw new CliError(`serve: ${why}`);
    }
    host.api.servedAt(server.apiBase);
    writeJson(io, { url: server.url, api_base: server.apiBase, api_key: apiKey.key });
    for (const n of host.notices.all()) say(`keymate: ${n.level}: ${n.message}`);
    const off = host.subscribe((name, payload) => {
      if (name === 'notice') {
        const n = payload as { level: string; message: string };
        say(`keymate: ${n.level}: ${n.message}`);
      }
    });
    say(`keymate serve: open ${server.url} (data in ${home}; Ctrl-C stops)`);
    if (remote !== null) say(`keymate serve: presses and API requests go to ${remote.url}${remote.model !== '' ? ` (model ${remote.model})` : ''}`);
    say(`keymate serve: OpenAI-compatible API at ${server.apiBase} (its key is on the first line of stdout, and in ${apiKey.file}${apiKey.created ? ', made now' : ''})`);

    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    off();
    await server.close();
    await host.stop();
    say('keymate serve: stopped');
    return EXIT_OK;
  },
};
