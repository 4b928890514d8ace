/** The Via field (RFC 9110 §7.6.3): https://www.rfc-editor.org/rfc/rfc9110#section-7.6.3 */

/** The Via entry this proxy adds: "1.1 larder" (the protocol version of the message received). */
export function viaEntry(httpVersion: string, pseudonym: string): string {
  return `${httpVersion === '1.0' ? '1.0' : '1.1'} ${pseudonym}`;
}

