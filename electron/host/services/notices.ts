// Messages for the user that no request asked for. They are kept (the last
// few dozen) as well as sent, because the most important ones happen at start,
// before any UI is connected: a settings file found corrupt and set aside.
import type { Notice } from '../../../common/contract';
import type { HostEvents } from '../host-events';

const KEEP = 50;

export class Notices {
  private readonly list: Notice[] = [];
  private nextId = 1;

  constructor(private readonly events: HostEvents) {}

  add(level: Notice['level'], code: Notice['code'], message: string): Notice {
    const notice: Notice = { id: this.nextId++, t_ms: Date.now(), level, code, message };
    this.list.push(notice);
    if (this.list.length > KEEP) this.list.shift();
    this.events.emit('notice', notice);
    return notice;
  }

  all(): Notice[] {
    return [...this.list];
  }
}
