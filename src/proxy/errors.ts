/**
 * The error pages larder answers with itself: the short text/plain page that names the reason and the
 * URL, on a ServerResponse or as raw bytes. The coded errors themselves are src/errors.ts. No stack
 * trace ever reaches a client.
 */
import type { ServerResponse } from 'node:http';
import type { CodedError } from '../errors.js';

const REASONS: Record<number, string> = {
  400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 407: 'Proxy Authentication Required',
  408: 'Request Timeout', 413: 'Content Too Large', 414: 'URI Too Long', 416: 'Range Not Satisfiable', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported', 508: 'Loop Detected',
};
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Error';
}

/** The body of an error page: status line, reason, URL. */
export function errorBody(status: number, reason: string, url: string | undefined): string {
  return `${status} ${reasonPhrase(status)}\n${reason}\n${url ? `URL: ${url}\n` : ''}`;
}

/** Raw HTTP/1.1 error response for places without a ServerResponse (clientError, CONNECT). */
export function rawErrorResponse(status: number, reason: string, url: string | undefined, cacheStatus: string, extra: [string, string][] = []): string {
  const body = errorBody(status, reason, url);
  const lines = [
    `HTTP/1.1 ${status} ${reasonPhrase(status)}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `Cache-Status: ${cacheStatus}`,
    'Connection: close',
    ...extra.map(([k, v]) => `${k}: ${v}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Write an error page on a ServerResponse (when headers are not sent yet); otherwise cut the connection. */
export function sendError(res: ServerResponse, err: CodedError, url: string | undefined, cacheStatus: string, close = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(err.status, err.message, url);
  const headers: [string, string][] = [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(Buffer.byteLength(body))],
    ['Cache-Control', 'no-store'],
    ['Cache-Status', cacheStatus],
    ...err.extraHeaders,
  ];
  if (close) headers.push(['Connection', 'close']);
  res.writeHead(err.status, reasonPhrase(err.status), headers.flat());
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
