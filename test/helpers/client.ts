/**
 * Small clients for tests: a forward-proxy GET with Node's http in absolute form, and a raw socket
 * exchange for malformed input.
 */
import http from 'node:http';
import net from 'node:net';

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Send `method url` through the proxy at proxyPort (absolute-form), or origin-form when url starts with '/'. */
export function viaProxy(proxyPort: number, url: string, opts: { method?: string; headers?: Record<string, string | string[]>; body?: Buffer | string; agent?: http.Agent | false } = {}): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const u = url.startsWith('/') ? undefined : new URL(url);
    const req = http.request({
      host: '127.0.0.1', port: proxyPort, method: opts.method ?? 'GET', path: url,
      headers: { ...(u ? { host: u.host } : {}), ...opts.headers }, agent: opts.agent ?? false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Write raw bytes to host:port and collect everything until the server closes (or timeoutMs). */
export function rawExchange(port: number, data: string | Buffer, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => { clearTimeout(t); s.destroy(); resolve(Buffer.concat(chunks).toString('latin1')); };
    const t = setTimeout(done, timeoutMs);
    s.on('data', (c) => chunks.push(c));
    s.on('close', done);
    s.on('error', done);
    s.write(data);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
