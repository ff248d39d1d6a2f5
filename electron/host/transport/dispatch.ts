// One request through the host, the same for every transport: check it
// against the contract, run its handler, check the answer against the
// contract, and turn every failure into one line for the UI. A handler that
// answers something the contract does not allow is a host bug; the UI is told
// so rather than handed a malformed answer.
import { ContractError, type RequestHandlers, type RequestName, parseRequest, parseResponse } from '../../../common/contract';

export type Dispatched = { ok: true; name: RequestName; result: unknown } | { ok: false; error: string };

export async function dispatch<C>(handlers: RequestHandlers<C>, name: unknown, payload: unknown, context: C): Promise<Dispatched> {
  let request: { name: RequestName; payload: unknown };
  try {
    request = parseRequest(name, payload);
  } catch (e) {
    return { ok: false, error: message(e) };
  }
  let result: unknown;
  try {
    const handler = handlers[request.name] as (p: unknown, c: C) => unknown;
    result = await handler(request.payload, context);
  } catch (e) {
    return { ok: false, error: message(e) };
  }
  try {
    return { ok: true, name: request.name, result: parseResponse(request.name, result).payload };
  } catch (e) {
    return { ok: false, error: `${message(e)} (a bug in the host)` };
  }
}

function message(e: unknown): string {
  const text = e instanceof ContractError || e instanceof Error ? e.message : String(e);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
