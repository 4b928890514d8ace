/**
 * The Cache-Status response field (RFC 9211, https://www.rfc-editor.org/rfc/rfc9211): one entry naming
 * what this cache did with the request. Appended to any Cache-Status an upstream cache already sent.
 */
/** RFC 9211 §2.2 fwd values */
export type FwdReason = 'bypass' | 'method' | 'uri-miss' | 'vary-miss' | 'miss' | 'request' | 'stale' | 'partial';

export interface CacheStatusParams {
  hit?: boolean;
  fwd?: FwdReason;
  fwdStatus?: number;
  stored?: boolean;
  collapsed?: boolean;
  /** seconds of freshness left (negative when stale) */
  ttl?: number;
  key?: string;
  detail?: string;
}

function token(detail: string): string {
  // sf-token when it can be, else an sf-string
  return /^[A-Za-z*][A-Za-z0-9:/!#$%&'*+\-.^_`|~]*$/.test(detail) ? detail : JSON.stringify(detail);
}

export function formatCacheStatus(name: string, p: CacheStatusParams): string {
  const parts = [name];
  if (p.hit) parts.push('hit');
  if (p.fwd) parts.push(`fwd=${p.fwd}`);
  if (p.fwdStatus !== undefined) parts.push(`fwd-status=${p.fwdStatus}`);
  if (p.stored) parts.push('stored');
  if (p.collapsed) parts.push('collapsed');
  if (p.ttl !== undefined && Number.isFinite(p.ttl)) parts.push(`ttl=${Math.trunc(p.ttl)}`);
  if (p.detail) parts.push(`detail=${token(p.detail)}`);
  return parts.join('; ');
}
