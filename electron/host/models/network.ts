// Whether downloads can start: a DNS lookup of the model host, answered in
// words. It cannot prove a download will work (a proxy, a firewall), but
// "the name does not resolve" is the offline case a first run meets, and it
// is cheap enough to ask each time the recommended list is shown (cached for
// a minute). The lookup is injected for tests.
import * as dns from 'node:dns';

export interface NetworkStatus {
  offline: boolean;
  reason: string | null;
}

export type Lookup = (host: string) => Promise<unknown>;

export const MODEL_HOST = 'huggingface.co';
const TIMEOUT_MS = 2500;
const CACHE_MS = 60_000;

export class NetworkProbe {
  private cached: { at: number; status: NetworkStatus } | null = null;

  constructor(
    private readonly lookup: Lookup = (host) => dns.promises.lookup(host),
    private readonly now: () => number = Date.now,
  ) {}

  async status(): Promise<NetworkStatus> {
    if (this.cached !== null && this.now() - this.cached.at < CACHE_MS) return this.cached.status;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('no answer'), { code: 'ETIMEOUT' })), TIMEOUT_MS);
    });
    let status: NetworkStatus;
    try {
      await Promise.race([this.lookup(MODEL_HOST), timeout]);
      status = { offline: false, reason: null };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      status = { offline: true, reason: `${MODEL_HOST} cannot be reached (${code}): this machine looks offline; import a GGUF from disk instead` };
    } finally {
      clearTimeout(timer);
    }
    this.cached = { at: this.now(), status };
    return status;
  }
}
