// Finds the keyboard's serial port. A port the user names is used as given. Otherwise the
// USB ports are listed and matched by vendor id, product id and, if set, serial number.
// On Linux the list comes from sysfs, read directly; serialport's list() is the fallback
// there (no /sys/class/tty, as in some sandboxes) and the way elsewhere. list() runs
// udevadm, a process: a list took 78-101 ms here (2 cores) against 6.2-8.3 ms for sysfs; and while
// no keyboard is plugged in the link searches again every few seconds (KeyboardLink's
// backoff, up to 5 s): each search was a burst on the cores the engine answers on. If
// neither list works, the answer says to name the port. Discovery never throws: it returns
// a port or a reason a person can act on.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface PortInfo {
  path: string;
  vendorId?: number;
  productId?: number;
  serialNumber?: string;
}

export interface UsbMatch {
  vendorId: number;
  productId: number;
  /** Only this keyboard, when several are plugged in. */
  serialNumber?: string;
}

/** pid.codes' test ids (1209:0001): a maker ships its own and sets them in the settings. */
export const DEFAULT_USB_MATCH: UsbMatch = { vendorId: 0x1209, productId: 0x0001 };

export type PortLister = () => Promise<PortInfo[]>;

export type Discovery =
  | { ok: true; path: string; via: 'path' | 'usb' | 'sysfs' }
  | { ok: false; reason: string };

export interface DiscoveryOptions {
  /** A port named by the user: used as is, no listing. */
  port?: string;
  usb?: UsbMatch;
  /** Defaults: serialport's list() and sysfs, in the platform's order (above). Tests pass their own. */
  list?: PortLister;
  listSysfs?: PortLister;
  /** Whose order to use; process.platform by default. */
  platform?: NodeJS.Platform;
}

export function usbId(m: UsbMatch): string {
  const hex = (n: number): string => n.toString(16).padStart(4, '0');
  return `${hex(m.vendorId)}:${hex(m.productId)}${m.serialNumber !== undefined ? ` serial ${m.serialNumber}` : ''}`;
}

export async function discoverPort(options: DiscoveryOptions): Promise<Discovery> {
  if (options.port !== undefined) return { ok: true, path: options.port, via: 'path' };
  const match = options.usb ?? DEFAULT_USB_MATCH;
  const serialport: [PortLister, 'usb'] = [options.list ?? listWithSerialport, 'usb'];
  const sysfs: [PortLister, 'sysfs'] = [options.listSysfs ?? (() => listSysfs()), 'sysfs'];
  const order = (options.platform ?? process.platform) === 'linux' ? [sysfs, serialport] : [serialport, sysfs];
  let ports: PortInfo[] | null = null;
  let via: 'usb' | 'sysfs' = 'usb';
  let listError: unknown = null;
  for (const [list, how] of order) {
    try {
      ports = await list();
      via = how;
      break;
    } catch (e) {
      // serialport's error says more (which program is missing) than a missing folder's.
      if (how === 'usb' || listError === null) listError = e;
    }
  }
  if (ports === null) {
    return {
      ok: false,
      reason:
        `cannot list serial ports (${errorText(listError)}); ` +
        'name the keyboard port instead (--port PATH, or the serial port setting)',
    };
  }
  const found = ports
    .filter((p) => matches(p, match))
    .sort((a, b) => a.path.localeCompare(b.path));
  const first = found[0];
  if (!first) {
    return {
      ok: false,
      reason: `no keyboard with USB id ${usbId(match)} is plugged in (${ports.length} serial port${ports.length === 1 ? '' : 's'} seen)`,
    };
  }
  return { ok: true, path: first.path, via };
}

function matches(p: PortInfo, m: UsbMatch): boolean {
  return (
    p.vendorId === m.vendorId &&
    p.productId === m.productId &&
    (m.serialNumber === undefined || p.serialNumber === m.serialNumber)
  );
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function hexId(v: unknown): number | undefined {
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{1,4}$/.test(v.trim())) return undefined;
  return parseInt(v.trim(), 16);
}

async function listWithSerialport(): Promise<PortInfo[]> {
  // Loaded here so that code which never lists ports does not load the native binding.
  const { SerialPort } = await import('serialport');
  const ports = await SerialPort.list();
  return ports.map((p) => {
    const info: PortInfo = { path: p.path };
    const vendorId = hexId(p.vendorId);
    const productId = hexId(p.productId);
    if (vendorId !== undefined) info.vendorId = vendorId;
    if (productId !== undefined) info.productId = productId;
    if (p.serialNumber !== undefined) info.serialNumber = p.serialNumber;
    return info;
  });
}

/**
 * USB serial ports from sysfs: /sys/class/tty/NAME/device leads to the USB interface
 * (ttyACM) or below it (ttyUSB); the USB device, with idVendor, idProduct and serial, is the
 * nearest folder above that has an idVendor file.
 */
export async function listSysfs(sysRoot = '/sys', devRoot = '/dev'): Promise<PortInfo[]> {
  const classDir = path.join(sysRoot, 'class', 'tty');
  const names = await fs.readdir(classDir);
  const ports: PortInfo[] = [];
  for (const name of names.sort()) {
    let dir: string;
    try {
      dir = await fs.realpath(path.join(classDir, name, 'device'));
    } catch {
      continue; // a virtual terminal: no device behind it
    }
    for (let up = 0; up < 4 && dir.startsWith(sysRoot); up++, dir = path.dirname(dir)) {
      const vendorId = hexId(await readText(path.join(dir, 'idVendor')));
      if (vendorId === undefined) continue;
      const info: PortInfo = { path: path.join(devRoot, name), vendorId };
      const productId = hexId(await readText(path.join(dir, 'idProduct')));
      if (productId !== undefined) info.productId = productId;
      const serial = await readText(path.join(dir, 'serial'));
      if (serial !== undefined) info.serialNumber = serial.trim();
      ports.push(info);
      break;
    }
  }
  return ports;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}
