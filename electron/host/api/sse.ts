// Server-sent events as OpenAI streams them: each message one `data: <JSON>`
// line and a blank line, the stream ending with `data: [DONE]`. JSON never
// holds a raw line break (JSON.stringify escapes them), so one line per
// message is always enough. No event names, no ids, no retry: OpenAI's
// clients read data lines only.
import type { ServerResponse } from 'node:http';

export const SSE_DONE = 'data: [DONE]\n\n';

export function sseMessage(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/** One response as an event stream; the headers go out with the first message. */
export class SseStream {
  private open = false;

  constructor(private readonly res: ServerResponse) {}

  get started(): boolean {
    return this.open;
  }

  send(value: unknown): void {
    this.start();
    this.res.write(sseMessage(value));
  }

  /** The last message, then the end of the response. */
  done(): void {
    this.start();
    this.res.end(SSE_DONE);
  }

  /** A failure after the stream began: an `{"error": ...}` message (OpenAI's clients raise it), and no [DONE]. */
  fail(body: unknown): void {
    this.start();
    this.res.end(sseMessage(body));
  }

  private start(): void {
    if (this.open) return;
    this.open = true;
    this.res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      // A proxy in between (nginx) must not hold the tokens back.
      'X-Accel-Buffering': 'no',
    });
    // Each token's message goes out when written, not when Nagle's timer says.
    this.res.socket?.setNoDelay(true);
  }
}
