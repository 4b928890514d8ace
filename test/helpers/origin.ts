/**
 * A real origin server for tests: counts requests and connections, records what it received, and answers
 * with a handler chosen per test. Listens on 127.0.0.1, ephemeral port.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

export interface TestOrigin {
  url: string;
  port: number;
  host: string;
  requests: SeenRequest[];
  connections: number;
  count(path?: string): number;
  close(): Promise<void>;
  server: http.Server;
}

export type OriginHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

export async function startOrigin(handler: OriginHandler, opts: { readBody?: boolean } = {}): Promise<TestOrigin> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    if (opts.readBody !== false) for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    requests.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body });
    try {
      await handler(req, res, body);
    } catch {
      res.destroy();
    }
  });
  server.on('connection', (s) => { connections++; sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    requests,
    get connections() { return connections; },
    count: (path?: string) => requests.filter((r) => path === undefined || r.url === path || r.url.endsWith(path)).length,
    server,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}
