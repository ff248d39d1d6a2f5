// A request's JSON body, read with a limit: a Content-Length over it is
// refused before a byte is read, and a body that grows past it (chunked, or
// a Content-Length that lied) stops being kept at the limit. What the client
// still sends after the refusal is read and thrown away (discardRest), up to
// a bound, so that it can read the 413 instead of a reset connection; past
// the bound the connection is closed.
import type { IncomingMessage } from 'node:http';

import { printable } from '../../../common/printable';
import { badRequest, tooLarge } from './api-error';

/** The largest body kept: far above any chat a small model's context holds (a 128K-token context is about 500 KiB of text). */
export const MAX_BODY_BYTES = 1 << 20;
/** What is read and dropped after a refusal before the connection is closed instead. */
export const MAX_DISCARD_BYTES = 64 << 20;

/** The client hung up before its body ended: there is no one to answer. */
export class ClientGone extends Error {
  override readonly name = 'ClientGone';
  constructor() {
    super('the client went away while sending its request');
  }
}

/** The body's bytes, or a 413 ApiError once they pass `limit` (the rest left unread), or ClientGone. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onError);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        done();
        req.pause();
        chunks.length = 0;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (): void => {
      done();
      reject(new ClientGone());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    // Closed before its end: the client hung up mid-body.
    req.on('close', onError);
  });
}

/** The body parsed as JSON, or a 400 that says where it is broken. */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) throw badRequest('the body is empty: send a JSON object');
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (e) {
    throw badRequest(`invalid JSON: ${printable(e instanceof Error ? e.message : String(e), 120)}`, null, 'invalid_json');
  }
}

/**
 * Reads and drops the rest of a refused body, so the client, still sending,
 * gets to read the answer; a client that sends more than `bound` is cut off.
 */
export function discardRest(req: IncomingMessage, bound = MAX_DISCARD_BYTES): void {
  if (req.readableEnded) return;
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > bound) req.socket.destroy();
  });
  req.resume();
}
