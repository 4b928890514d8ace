/** Request methods: the safe ones, and the ones larder serves (its Allow answer). */

/** RFC 9110 §9.2.1: https://www.rfc-editor.org/rfc/rfc9110#section-9.2.1 */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** The Allow field value larder answers OPTIONS * and a refused CONNECT with (RFC 9110 §10.2.1). */
export const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE';
