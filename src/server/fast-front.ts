/**
 * The fast front: the listening socket sits here, in front of node:http. A keep-alive connection whose
 * requests are plain GET/HEAD hits is answered straight from prepared bytes (one corked write per
 * response); the first request that is anything else, or arrives in pieces, is handed to node:http with the
 * bytes not yet consumed, and the connection stays with node:http from then on. node:http therefore still
 * sees and answers every unusual, malformed or hostile request exactly as before.
 */
import net from 'node:net';
import type http from 'node:http';
import { parseFastRequest, type FastParseLimits, type FastRequest } from './fast-request.js';

export interface FastFrontDeps {
  http: http.Server;
  limits: FastParseLimits;
  keepAliveTimeoutMs: number;
  /** returns false to refuse a new connection (total / per-client caps) */
  admit?: (socket: net.Socket) => boolean;
  onConnection?: (delta: 1 | -1) => void;
  /** once per connection: whether its requests may take the fast path at all (client access rule) */
  fastAllowed: (socket: net.Socket) => boolean;
  /** answer `req` on `socket` now; false leaves it to node:http */
  serve: (socket: net.Socket, req: FastRequest) => boolean;
}

export interface FastFront {
  server: net.Server;
  /** end the connections still on the fast path (they are idle between requests) */
  closeIdle(): void;
  /** cut the connections still on the fast path (the shutdown deadline) */
  destroyAll(): void;
}

const HANDED_OFF = Symbol('larder.handedOff');

/** errors of a connection still on the fast path (a reset, mostly): it is simply gone */
function onFastError(this: net.Socket): void {
  this.destroy();
}

/** true for a socket that reached node:http through the fast front (already admitted and counted) */
export function handedOff(socket: net.Socket): boolean {
  return (socket as net.Socket & { [HANDED_OFF]?: boolean })[HANDED_OFF] === true;
}

export function createFastFront(deps: FastFrontDeps): FastFront {
  const live = new Set<net.Socket>();

  const handOff = (socket: net.Socket, rest: Buffer | undefined): void => {
    live.delete(socket);
    socket.removeAllListeners('data');
    socket.removeAllListeners('timeout');
    socket.removeAllListeners('drain');
    socket.removeListener('error', onFastError);
    socket.setTimeout(0);
    socket.pause();
    if (rest && rest.length > 0) socket.unshift(rest);
    (socket as net.Socket & { [HANDED_OFF]?: boolean })[HANDED_OFF] = true;
    // node:http would otherwise read the handle directly and pass by the bytes put back above
    const handle = (socket as net.Socket & { _handle?: { _consumed?: boolean } })._handle;
    if (handle) handle._consumed = true;
    deps.http.emit('connection', socket);
    socket.resume();
  };

  const server = net.createServer({ noDelay: true }, (socket) => {
    if (deps.admit && !deps.admit(socket)) {
      socket.destroy();
      return;
    }
    deps.onConnection?.(1);
    socket.once('close', () => {
      live.delete(socket);
      deps.onConnection?.(-1);
    });
    if (!deps.fastAllowed(socket)) return handOff(socket, undefined);
    socket.on('error', onFastError);
    live.add(socket);
    socket.setTimeout(deps.keepAliveTimeoutMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      const s = chunk.toString('latin1');
      let pos = 0;
      while (pos < s.length) {
        const req = parseFastRequest(s, pos, deps.limits);
        if (req === undefined || !deps.serve(socket, req)) return handOff(socket, pos === 0 ? chunk : chunk.subarray(pos));
        pos = req.end;
        if (req.close) {
          live.delete(socket);
          socket.removeAllListeners('data');
          socket.end();
          return;
        }
      }
      // a client that does not read its responses is not read from either (as node:http does)
      if (socket.writableNeedDrain) {
        socket.pause();
        socket.once('drain', () => socket.resume());
      }
    });
  });

  return {
    server,
    closeIdle() {
      for (const s of live) { s.removeAllListeners('data'); s.end(); }
      live.clear();
    },
    destroyAll() {
      for (const s of live) s.destroy();
      live.clear();
    },
  };
}
