// Things the host must tell the user that are not the answer to a request:
// a settings or history file found corrupt and kept aside, a keyboard that
// did not take a command, a model that failed to load at start.
import { z } from 'zod';

export const NOTICE_CODES = ['settings-corrupt', 'history-corrupt', 'storage-error', 'device-warning', 'engine-error', 'info'] as const;

export const Notice = z.strictObject({
  id: z.number().int().nonnegative(),
  t_ms: z.number(),
  level: z.enum(['info', 'warning', 'error']),
  code: z.enum(NOTICE_CODES),
  message: z.string(),
});
export type Notice = z.infer<typeof Notice>;
