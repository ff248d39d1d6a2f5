// `keymate serve` as a child process, the way a user starts it, for the tests
// of its API: started on a free port, ready once its first stdout line
// ({"url", "api_base", "api_key"}) is out, and stopped with Ctrl-C. And a
// port nothing listens on, for servers that are not there.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import * as http from 'node:http';

import { bin } from './repo';

export interface Serve {
  child: ChildProcessWithoutNullStreams;
  line: { url: string; api_base: string; api_key: string };
  /** Its stderr so far. */
  stderr: () => string;
}

/** `keymate serve --port 0 ...args` with KEYMATE_HOME=`home` (and `env` over the test's own), once its first stdout line is out. */
export async function serve(home: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Serve> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], {
    env: { ...process.env, ...env, KEYMATE_HOME: home },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const first = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${String(code)}) before its first line: ${err}`)));
  });
  return { child, line: JSON.parse(first) as Serve['line'], stderr: () => err };
}

/** Ctrl-C, and its exit code (SIGKILL after 15 s: a serve that does not stop fails the test's exit-code check). */
export async function stop(s: Serve): Promise<number | null> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return s.child.exitCode;
  const exited = new Promise<number | null>((resolve) => s.child.once('exit', resolve));
  s.child.kill('SIGINT');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 15_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** A loopback port nothing listens on (one was given and given back), barring another program taking it meanwhile. */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
