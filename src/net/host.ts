/** Host names: one normalisation, and which names mean this machine. */
import { isLoopbackAddress } from './address.js';

/**
 * Lower-case, without [brackets], surrounding space and trailing dots: the form every host rule
 * (destination rules, host patterns, interception, minted certificates) compares.
 */
export function normalizeHost(host: string): string {
  let h = String(host).trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h.replace(/\.+$/, '');
}

/**
 * RFC 6761 §6.3 localhost names, and the usual /etc/hosts aliases of ::1: names the destination rules
 * treat as the proxy host's loopback. `h` is normalised (normalizeHost).
 */
export function isLocalhostName(h: string): boolean {
  return h === 'localhost' || h.endsWith('.localhost') || h === 'localhost.localdomain' || h === 'ip6-localhost' || h === 'ip6-loopback';
}

/**
 * True for the name `localhost` (and `*.localhost`, RFC 6761 §6.3) and loopback addresses (isLoopbackAddress):
 * is a listen address or a Host header this machine only?
 */
export function isLoopbackHost(host: string): boolean {
  const h = normalizeHost(host);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  return isLoopbackAddress(h);
}
