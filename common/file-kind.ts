// What kind of file a path is, in the words a message uses. Models and
// serial ports are both opened by path, and a path a user typed can name
// anything: a folder, a named pipe (which blocks a plain open until a writer
// comes), a socket, a device. Pure: the caller passes what fs.stat/fstat gave.

export interface FileTypeTests {
  isFile(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSymbolicLink(): boolean;
}

export type FileKind = 'file' | 'folder' | 'fifo' | 'socket' | 'character device' | 'block device' | 'symbolic link' | 'other';

export function fileKind(st: FileTypeTests): FileKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'folder';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isSymbolicLink()) return 'symbolic link';
  return 'other';
}

/** "a folder", "a named pipe (FIFO)": for "X is <this>, not a model file". */
export function fileKindPhrase(kind: FileKind): string {
  switch (kind) {
    case 'file':
      return 'a regular file';
    case 'folder':
      return 'a folder';
    case 'fifo':
      return 'a named pipe (FIFO)';
    case 'socket':
      return 'a socket';
    case 'character device':
      return 'a character device';
    case 'block device':
      return 'a block device';
    case 'symbolic link':
      return 'a symbolic link';
    case 'other':
      return 'not a regular file';
  }
}
