// Bytes in and out of the API: inkand speaks base64 with the standard alphabet
// and padding (RFC 4648 §4); callers hand the SDK ArrayBuffers, typed arrays or
// DataViews.

/** What the SDK accepts as binary input. */
export type Bytes = ArrayBuffer | ArrayBufferView;

/** A copy of `input` as a Uint8Array (a copy, so later changes by the caller do not matter). */
export function toUint8Array(input: Bytes): Uint8Array {
  if (input instanceof ArrayBuffer) return new Uint8Array(input.slice(0));
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength));
  throw new TypeError('expected an ArrayBuffer, a typed array or a DataView');
}

export function isBytes(input: unknown): input is Bytes {
  return input instanceof ArrayBuffer || ArrayBuffer.isView(input);
}

// btoa/atob take "binary strings"; the chunk keeps String.fromCharCode's argument list short.
const CHUNK = 0x8000;

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes strict RFC 4648 §4 base64; null for anything else. */
export function fromBase64(text: string): Uint8Array | null {
  if (typeof text !== 'string' || !BASE64.test(text)) return null;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Lower-case hex, e.g. for showing a digest. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
