// The window's Content-Security-Policy: the UI's own scripts, styles, images
// and fonts from the app:// origin, and nothing else: no inline code, no
// eval, no network (the UI reaches the host over IPC only), no framing.
export const APP_SCHEME = 'app';
export const APP_HOST = 'keymate';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

export const WINDOW_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');
