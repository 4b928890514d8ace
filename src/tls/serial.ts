/** Certificate serial numbers, for the CA (ca.ts) and the leaves it signs (mint.ts). */
import { webcrypto } from 'node:crypto';

/**
 * 128 random bits as hex: a positive INTEGER of at most 20 octets with no leading zero octet
 * (RFC 5280 §4.1.2.2, https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.2).
 */
export function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f; // positive
  if (bytes[0] === 0) bytes[0] = 1; // no leading zero octet
  return Buffer.from(bytes).toString('hex');
}
