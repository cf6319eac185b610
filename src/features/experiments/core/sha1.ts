/**
 * SHA-1 of a string's UTF-8 bytes. Synchronous on purpose: Web Crypto's digest is async-only,
 * and assignment must stay a pure synchronous function in the browser and on the server. SHA-1
 * is used here only to reproduce PostHog's bucketing, never for security.
 *
 * PostHog-mode assignment hashes twice per subject, so this avoids allocating: the message is
 * written into a reused buffer (ASCII directly, anything else through TextEncoder), the schedule
 * and the digest are reused too, and callers that need only the leading bits read the digest
 * words instead of a hex string.
 */
const encoder = new TextEncoder();
let message = new Uint8Array(256);
const schedule = new Int32Array(80);
const digestWords = new Int32Array(5);

function ensureCapacity(bytes: number) {
  if (message.length < bytes) message = new Uint8Array(Math.max(bytes, message.length * 2));
}

/** Copies ASCII `text` to `offset`; −1 as soon as a character needs more than one UTF-8 byte. */
function writeAscii(text: string, offset: number): number {
  let position = offset;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 0x80) return -1;
    message[position++] = code;
  }
  return position;
}

/** Writes the UTF-8 of first + second + third + fourth into `message`; returns its byte length. */
function writeMessage(first: string, second: string, third: string, fourth: string): number {
  // 3 bytes per UTF-16 unit is UTF-8's worst case; 72 more cover the padding and length.
  ensureCapacity((first.length + second.length + third.length + fourth.length) * 3 + 72);
  let length = writeAscii(first, 0);
  if (length >= 0) length = writeAscii(second, length);
  if (length >= 0) length = writeAscii(third, length);
  if (length >= 0) length = writeAscii(fourth, length);
  if (length >= 0) return length;
  // Encoded whole, so a surrogate pair split across two parts still becomes one character.
  return encoder.encodeInto(first + second + third + fourth, message).written;
}

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}

/**
 * SHA-1 of the UTF-8 of the concatenated parts, as five int32 words. The returned array is reused
 * by the next call: read it before hashing again.
 */
export function sha1Words(first: string, second = "", third = "", fourth = ""): Int32Array {
  const length = writeMessage(first, second, third, fourth);
  // Message + 0x80 + zero padding + 64-bit big-endian bit length, to a multiple of 64 bytes.
  const paddedLength = Math.ceil((length + 9) / 64) * 64;
  message[length] = 0x80;
  message.fill(0, length + 1, paddedLength - 8);
  const bitLength = length * 8;
  const high = Math.floor(bitLength / 2 ** 32);
  const low = bitLength >>> 0;
  for (let index = 0; index < 4; index++) {
    message[paddedLength - 8 + index] = high >>> (24 - index * 8);
    message[paddedLength - 4 + index] = low >>> (24 - index * 8);
  }

  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  const words = schedule;
  const bytes = message;

  for (let offset = 0; offset < paddedLength; offset += 64) {
    for (let index = 0; index < 16; index++) {
      const at = offset + index * 4;
      words[index] =
        ((bytes[at] as number) << 24) |
        ((bytes[at + 1] as number) << 16) |
        ((bytes[at + 2] as number) << 8) |
        (bytes[at + 3] as number);
    }
    for (let index = 16; index < 80; index++) {
      words[index] = rotateLeft(
        (words[index - 3] as number) ^
          (words[index - 8] as number) ^
          (words[index - 14] as number) ^
          (words[index - 16] as number),
        1,
      );
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    // Four loops of twenty rounds, one per round function, so no round branches on its index.
    for (let index = 0; index < 20; index++) {
      const next = (rotateLeft(a, 5) + ((b & c) | (~b & d)) + e + 0x5a827999 + (words[index] as number)) | 0;
      e = d;
      d = c;
      c = rotateLeft(b, 30);
      b = a;
      a = next;
    }
    for (let index = 20; index < 40; index++) {
      const next = (rotateLeft(a, 5) + (b ^ c ^ d) + e + 0x6ed9eba1 + (words[index] as number)) | 0;
      e = d;
      d = c;
      c = rotateLeft(b, 30);
      b = a;
      a = next;
    }
    for (let index = 40; index < 60; index++) {
      const next =
        (rotateLeft(a, 5) + ((b & c) | (b & d) | (c & d)) + e + 0x8f1bbcdc + (words[index] as number)) | 0;
      e = d;
      d = c;
      c = rotateLeft(b, 30);
      b = a;
      a = next;
    }
    for (let index = 60; index < 80; index++) {
      const next = (rotateLeft(a, 5) + (b ^ c ^ d) + e + 0xca62c1d6 + (words[index] as number)) | 0;
      e = d;
      d = c;
      c = rotateLeft(b, 30);
      b = a;
      a = next;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  digestWords[0] = h0;
  digestWords[1] = h1;
  digestWords[2] = h2;
  digestWords[3] = h3;
  digestWords[4] = h4;
  return digestWords;
}

/** SHA-1 of a string's UTF-8 bytes, as lower-case hex. */
export function sha1Hex(text: string): string {
  let hex = "";
  for (const word of sha1Words(text)) hex += (word >>> 0).toString(16).padStart(8, "0");
  return hex;
}
