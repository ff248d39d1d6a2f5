// What an IPC handler returns to the preload. Errors travel as data rather
// than as a thrown Error, which Electron would reword ("Error invoking remote
// method ..."): the UI gets the host's one line as it was written.
export type IpcAnswer = { ok: true; result: unknown } | { ok: false; error: string };
