// The app's OpenAI-compatible API as a service of the host: its key (kept in
// the data folder, api-key.ts), the server that answers under /v1
// (openai-server.ts, on whichever engine answers presses), and where it
// listens. `keymate serve` answers /v1 on its own loopback port
// (servedAt); the desktop app listens on the port Settings name, only while
// Settings say so (apply), on 127.0.0.1 alone unless they let the network in.
import * as http from 'node:http';

import type { ApiServerStatus, ApiSettings } from '../../../common/contract';
import { LOOPBACK } from '../transport/security';
import { type ApiKey, apiKeyFile, loadApiKey } from './api-key';
import type { CompletionEngine } from './completion-engine';
import { OpenAiServer, isApiPath, pathOf } from './openai-server';

export class ApiService {
  readonly server: OpenAiServer;
  private listener: { port: number; network: boolean; http: http.Server } | null = null;
  private current: ApiServerStatus;
  /** The listener's changes, one at a time. */
  private tail: Promise<void> = Promise.resolve();

  private constructor(
    private readonly home: string,
    private key: ApiKey,
    engine: CompletionEngine,
    private readonly emit: (status: ApiServerStatus) => void,
    log: (line: string) => void,
  ) {
    this.server = new OpenAiServer({ engine, apiKey: key.key, log });
    this.current = { state: 'off', api_base: null, key: key.key, key_file: key.file, message: null };
  }

  /** Never fails: a key that cannot be read or made leaves the API unable to listen, and its status says why. */
  static async open(home: string, engine: CompletionEngine, emit: (status: ApiServerStatus) => void, log: (line: string) => void, options: { renew?: boolean } = {}): Promise<ApiService> {
    try {
      return new ApiService(home, await loadApiKey(home, options), engine, emit, log);
    } catch (e) {
      const service = new ApiService(home, { key: '', file: apiKeyFile(home), created: false }, engine, emit, log);
      service.current = { ...service.current, state: 'error', message: e instanceof Error ? e.message : String(e) };
      return service;
    }
  }

  /** Why the API cannot be served (its key could not be read or made), or null. */
  get problem(): string | null {
    return this.key.key === '' ? (this.current.message ?? 'api key: none') : null;
  }

  get apiKey(): ApiKey {
    return this.key;
  }

  status(): ApiServerStatus {
    return { ...this.current };
  }

  async renewKey(): Promise<ApiServerStatus> {
    this.key = await loadApiKey(this.home, { renew: true });
    this.server.setKey(this.key.key);
    this.set({ key: this.key.key, key_file: this.key.file, ...(this.current.state === 'error' && this.listener === null && { state: 'off', message: null }) });
    return this.status();
  }

  /** keymate serve answers /v1 on its own port: the status says where. */
  servedAt(apiBase: string): void {
    this.set({ state: 'listening', api_base: apiBase, message: null });
  }

  /** Listens as `settings` say (the desktop app): starts, moves or stops the listener; a port in use is the status's message. */
  apply(settings: ApiSettings): Promise<ApiServerStatus> {
    const run = this.tail.then(async () => {
      const want = settings.enabled ? settings.port : null;
      if (this.listener?.port === want && this.listener.network === settings.lan) return;
      await this.stopListening();
      if (want === null) {
        if (this.problem === null) this.set({ state: 'off', api_base: null, message: null });
        return;
      }
      if (this.problem !== null) {
        this.set({ state: 'error', api_base: null, message: `api: not started: ${this.problem} (New key makes one)` });
        return;
      }
      try {
        this.listener = { port: want, network: settings.lan, http: await listen(this.server, want, settings.lan) };
        this.set({
          state: 'listening',
          api_base: `http://${LOOPBACK}:${want}/v1`,
          message: settings.lan ? `other machines on the network reach it at this machine's address, port ${want}, with the key` : null,
        });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === 'EADDRINUSE' ? `port ${want} is in use (another program listens there): choose another port` : code === 'EACCES' ? `port ${want} needs privileges: choose one above 1024` : e instanceof Error ? e.message : String(e);
        this.set({ state: 'error', api_base: null, message: `api: ${why}` });
      }
    });
    this.tail = run.catch(() => undefined);
    return run.then(() => this.status());
  }

  async close(): Promise<void> {
    this.server.close();
    await this.tail;
    await this.stopListening();
  }

  private async stopListening(): Promise<void> {
    const l = this.listener;
    this.listener = null;
    if (l === null) return;
    this.server.close();
    l.http.closeAllConnections();
    await new Promise<void>((resolve) => l.http.close(() => resolve()));
  }

  private set(change: Partial<ApiServerStatus>): void {
    this.current = { ...this.current, ...change };
    this.emit(this.status());
  }
}

/** An HTTP server on 127.0.0.1:`port` (every interface with `network`) that answers /v1 and nothing else. */
async function listen(api: OpenAiServer, port: number, network: boolean): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (isApiPath(pathOf(req))) {
      void api.handle(req, res, port, network);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end(JSON.stringify({ error: { message: 'not found: the OpenAI-compatible API is under /v1', type: 'invalid_request_error', param: null, code: 'not_found' } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, network ? '0.0.0.0' : LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A socket error after the start is the client's trouble, never the app's.
  server.on('error', () => undefined);
  return server;
}
