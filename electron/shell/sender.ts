// Who may call the host over IPC: only the app's own window, only its top
// frame (not an iframe), and only while it shows the app's own page. Written
// against the few fields it reads, so it is tested without Electron.
import { APP_HOST, APP_SCHEME } from './csp';

export interface SenderFrame {
  readonly url: string;
  /** null for a top frame. */
  readonly parent: unknown;
}

export function isTrustedSender(senderId: number, frame: SenderFrame | null, windowId: number | null): boolean {
  if (frame === null || windowId === null || senderId !== windowId) return false;
  if (frame.parent !== null) return false;
  try {
    // Compared by parts: a URL parser that does not know app: is a standard scheme says its origin is "null".
    const url = new URL(frame.url);
    return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST && url.username === '' && url.port === '';
  } catch {
    return false;
  }
}
