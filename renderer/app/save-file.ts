// Hands a file to the browser's (and Electron's) own download: the user
// picks where it goes. The page never writes to the disk itself.
export function saveFile(name: string, mime: string, data: string | Uint8Array<ArrayBuffer>): void {
  const url = URL.createObjectURL(new Blob([data], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}
