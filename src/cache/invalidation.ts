/**
 * Invalidating stored responses after unsafe requests. https://www.rfc-editor.org/rfc/rfc9111#section-4.4
 */
import { firstValue, parseCacheControl, targetedResponse, type Headers } from './cache-control.js';
import { SAFE_METHODS } from '../http/methods.js';


function sameOrigin(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && a.host === b.host; // host includes a non-default port
}

/**
 * URLs whose stored responses must be invalidated: for an unsafe method answered with a non-error
 * (2xx or 3xx) status, the target URI, and the Location and Content-Location URIs (resolved against the
 * target) when they share its origin — "a cache MUST NOT invalidate a URI from a Location or
 * Content-Location ... if the host part is different" (protection against denial of service).
 * Returned as absolute URLs without fragment, de-duplicated; the engine passes each through primaryKey().
 */
export function invalidationTargets(method: string, targetUrl: string, status: number, res: Headers): string[] {
  if (SAFE_METHODS.has(method.toUpperCase())) return [];
  if (status < 200 || status > 399) return [];
  let target: URL;
  try {
    target = new URL(targetUrl);
  } catch {
    return [];
  }
  target.hash = '';
  const out = [target.href];
  for (const field of ['location', 'content-location']) {
    const value = firstValue(res, field);
    if (value === undefined || value.trim() === '') continue;
    let u: URL;
    try {
      u = new URL(value.trim(), target);
    } catch {
      continue;
    }
    u.hash = '';
    if (sameOrigin(u, target) && !out.includes(u.href)) out.push(u.href);
  }
  return out;
}

/**
 * May the response to a POST be stored as the response to a later GET of its target?
 * https://www.rfc-editor.org/rfc/rfc9110#section-9.3.3: "Responses to POST requests are only cacheable when
 * they include explicit freshness information (see Section 4.2.1 of [CACHING]) and a Content-Location header
 * field that has the same value as the POST's target URI (Section 8.7)." The status and the other storage
 * rules (no-store, private, ...) are canStore()'s to decide, as for a GET; a targeted field (RFC 9213) that
 * gives the freshness is passed in `targeted` so that the explicit freshness may come from it too.
 */
export function postResponseReusable(targetUrl: string, status: number, res: Headers, targeted: readonly string[] = []): boolean {
  if (status < 200 || status > 299) return false;
  const cl = firstValue(res, 'content-location')?.trim();
  if (!cl) return false;
  let target: URL;
  let location: URL;
  try {
    target = new URL(targetUrl);
    location = new URL(cl, target);
  } catch {
    return false;
  }
  target.hash = '';
  location.hash = '';
  if (location.href !== target.href) return false;
  const view = targetedResponse({ headers: res }, targeted).headers;
  const cc = parseCacheControl(view['cache-control']);
  return cc.has('max-age') || cc.has('s-maxage') || firstValue(view, 'expires') !== undefined;
}
