// Loads the shared vectors file (firmware-bridge/vectors/frames.json), typed.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { FrameError, Message } from '../../firmware-bridge/protocol';
import { root } from '../support/repo';

export interface Vectors {
  crc16: { name: string; data: string; crc: number }[];
  cobs: { name: string; data: string; encoded: string }[];
  frames: { name: string; frame: string; message: Message }[];
  malformed: { name: string; frame: string; error: FrameError }[];
  streams: { name: string; bytes: string; results: ({ message: Message } | { error: FrameError })[] }[];
}

export const vectorsPath = path.join(root, 'firmware-bridge', 'vectors', 'frames.json');

export function loadVectors(): Vectors {
  return JSON.parse(fs.readFileSync(vectorsPath, 'utf8')) as Vectors;
}

export const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
