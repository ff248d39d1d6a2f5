// The tray icon: the app stays reachable when its window is closed, and the
// AI key is one click away. The icon is drawn here (a keycap with a dot)
// rather than shipped as a file, so there is nothing to find at run time.
import { Menu, Tray, nativeImage } from 'electron';

const SIZE = 32;

function keycapIcon(): Electron.NativeImage {
  const px = Buffer.alloc(SIZE * SIZE * 4);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const i = (y * SIZE + x) * 4;
      const edge = Math.min(x, y, SIZE - 1 - x, SIZE - 1 - y);
      const dot = (x - SIZE / 2) ** 2 + (y - SIZE / 2) ** 2 < 30;
      // BGRA: a light keycap with a dark rim and an accent dot.
      const [b, g, r, a] = edge < 2 ? [60, 50, 45, 255] : dot ? [250, 170, 70, 255] : edge < 5 ? [120, 110, 105, 255] : [225, 220, 215, 255];
      px[i] = b;
      px[i + 1] = g;
      px[i + 2] = r;
      px[i + 3] = a;
    }
  }
  return nativeImage.createFromBitmap(px, { width: SIZE, height: SIZE });
}

export interface TrayActions {
  show(): void;
  aiKey(): void;
  /** The overlay shown or hidden, and whether the mouse passes through it. */
  overlay(on: boolean): void;
  clickThrough(on: boolean): void;
  quit(): void;
}

export function createTray(actions: TrayActions): Tray {
  const tray = new Tray(keycapIcon());
  tray.setToolTip('Keymate');
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Show Keymate', click: () => actions.show() },
      { label: 'AI key (press / send)', click: () => actions.aiKey() },
      { label: 'Overlay', type: 'checkbox', checked: false, click: (item) => actions.overlay(item.checked) },
      { label: 'Overlay click-through', type: 'checkbox', checked: true, click: (item) => actions.clickThrough(item.checked) },
      { type: 'separator' },
      { label: 'Quit', click: () => actions.quit() },
    ]),
  );
  tray.on('click', () => actions.show());
  return tray;
}
