// The global shortcut for people without the keyboard. The operating system
// reports only that the shortcut was pressed, never its release, so it acts
// as a tap of the AI key (KeySession.tap): first tap listens, second sends,
// a tap during a reply cancels it. It follows the `shortcut` setting.
import { globalShortcut } from 'electron';

export class AiKeyShortcut {
  private current = '';

  constructor(
    private readonly tap: () => void,
    private readonly warn: (message: string) => void,
  ) {}

  /** Registers `accelerator` (empty = none) in place of the current one. */
  use(accelerator: string): void {
    if (accelerator === this.current) return;
    if (this.current !== '') globalShortcut.unregister(this.current);
    this.current = '';
    if (accelerator === '') return;
    let ok = false;
    try {
      ok = globalShortcut.register(accelerator, this.tap);
    } catch (e) {
      this.warn(`shortcut ${accelerator}: not valid (${e instanceof Error ? e.message : String(e)})`);
      return;
    }
    if (!ok) {
      this.warn(`shortcut ${accelerator}: already taken by another program; choose another in Settings`);
      return;
    }
    this.current = accelerator;
  }

  dispose(): void {
    globalShortcut.unregisterAll();
    this.current = '';
  }
}
