// The protocol layer: pure byte-level code with no I/O, shared by the host link, the
// simulator and the tests.

export * from './constants';
export * from './messages';
export { crc16 } from './crc16';
export { cobsDecode, cobsEncode, cobsMaxEncodedLength } from './cobs';
export { chunkUtf8, decodeUtf8, encodeUtf8, utf8Length } from './utf8';
export { decodeFrame, encodeBody, encodeFrame, type DecodeResult, type TrustedHeader } from './frame';
export { FrameReader, emptyReaderStats, type ReaderStats } from './frame-reader';
