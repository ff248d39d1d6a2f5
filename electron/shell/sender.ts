// Who may call the host over IPC: only the app's own windows (the main one,
// the overlay), only their top frame (not an iframe), and only while they
// show the app's own page. Written
// against the few fields it reads, so it is tested without Electron.
import { APP_HOST, APP_SCHEME } from './csp';

export interface SenderFrame {
  readonly url: string;
  /** null for a top frame. */
  readonly parent: unknown;
}

/** `windowIds`: the webContents ids of the app's windows now. */
export function isTrustedSender(senderId: number, frame: SenderFrame | null, windowIds: readonly number[]): boolean {
  if (frame === null || !windowIds.includes(senderId)) return false;
  if (frame.parent !== null) return false;
  try {
    // Compared by parts: a URL parser that does not know app: is a standard scheme says its origin is "null".
    const url = new URL(frame.url);
    return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST && url.username === '' && url.port === '';
  } catch {
    return false;
  }
}
