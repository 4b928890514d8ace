/**
 * The primary cache key: the normalised absolute target URI.
 * https://www.rfc-editor.org/rfc/rfc9111#section-2 and URI normalisation per
 * https://www.rfc-editor.org/rfc/rfc3986#section-6.2.2 / https://www.rfc-editor.org/rfc/rfc9110#section-4.2.3
 */

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Percent-encodings of unreserved characters decoded, other escapes' hex digits upper-cased (RFC 3986 §6.2.2.2). */
function normalisePercent(s: string): string {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
}

function queryParamName(param: string): string {
  const eq = param.indexOf('=');
  const raw = eq === -1 ? param : param.slice(0, eq);
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * Normalised absolute URI: scheme and host lower-cased, default port dropped, empty path → "/", dot
 * segments removed (WHATWG URL parsing), unreserved percent-encodings decoded, fragment dropped, and the
 * query parameters named in `ignoreQuery` removed (others kept in order). A string that is not an absolute
 * URL is returned unchanged (it can only ever match itself).
 */
export function primaryKey(url: string, ignoreQuery: readonly string[] = []): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  let href = u.href;
  const hash = href.indexOf('#');
  if (hash !== -1) href = href.slice(0, hash);
  const q = href.indexOf('?');
  const base = q === -1 ? href : href.slice(0, q);
  let query = q === -1 ? undefined : href.slice(q + 1);
  if (query !== undefined && ignoreQuery.length > 0) {
    const kept = query.split('&').filter((p) => !ignoreQuery.includes(queryParamName(p)));
    query = kept.length === 0 ? undefined : kept.join('&');
  }
  // the authority is already normalised by URL (and holds no '%'); this normalises path and query escapes
  const path = normalisePercent(base);
  return query === undefined ? path : `${path}?${normalisePercent(query)}`;
}
