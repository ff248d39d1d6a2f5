// The two processes the end-to-end test runs, started as a user starts them
// (bin/keymate): the keyboard simulator, driven through its stdin, and
// `keymate serve`, whose first stdout line is the URL to open. Output is kept
// so a failure can say what each process said.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

import { bin } from '../support/repo';

export class Child {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  constructor(
    readonly name: string,
    readonly child: ChildProcessWithoutNullStreams,
  ) {
    child.stdout.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  static keymate(name: string, args: readonly string[], env: NodeJS.ProcessEnv): Child {
    return new Child(name, spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } }));
  }

  /** `keymate serve` with `args` (after "serve"), once its first stdout line has said the URL to open. */
  static async serve(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ serve: Child; url: string; apiBase: string; apiKey: string }> {
    const serve = Child.keymate('serve', ['serve', ...args], env);
    const line = await serve.waitFor(
      'the URL line',
      (out) => {
        const first = out.split('\n')[0];
        return out.includes('\n') && first !== undefined ? (JSON.parse(first) as { url: string; api_base: string; api_key: string }) : undefined;
      },
      20_000,
    );
    return { serve, url: line.url, apiBase: line.api_base, apiKey: line.api_key };
  }

  /** The keyboard simulator on the pseudo-terminal `link`, once it is plugged in. */
  static async simulator(link: string, env: NodeJS.ProcessEnv): Promise<Child> {
    const sim = Child.keymate('simulator', ['device', 'simulate', '--link', link], env);
    await sim.waitFor('the simulated keyboard', (_o, e) => (e.includes('plugged in') ? true : undefined), 10_000);
    return sim;
  }

  send(line: string): void {
    this.child.stdin.write(line + '\n');
  }

  /** What this process said, for failure messages. */
  log(): string {
    return `--- ${this.name} stdout ---\n${this.stdout.slice(-3000)}\n--- ${this.name} stderr ---\n${this.stderr.slice(-3000)}`;
  }

  /** Waits until `match` finds something in stdout (or stderr); fails with the output if the process exits or time runs out. */
  async waitFor<T>(what: string, match: (stdout: string, stderr: string) => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = match(this.stdout, this.stderr);
      if (found !== undefined) return found;
      if (this.exitCode !== undefined) throw new Error(`${this.name} exited (${String(this.exitCode)}) before ${what}\n${this.log()}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Asks politely (SIGINT, as Ctrl-C), then insists. */
  async stop(graceMs = 5000): Promise<number | null> {
    if (this.exitCode !== undefined) return this.exitCode;
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
