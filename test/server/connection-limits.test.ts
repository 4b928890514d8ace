import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { ConnectionLimits } from '../../src/server/connection-limits.js';

/** A TCP server that admits through `limits` and writes "hi" to admitted sockets. */
async function serve(limits: ConnectionLimits): Promise<{ server: Server; port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const server = createServer((socket) => {
    if (!limits.admit(socket)) {
      socket.destroy();
      return;
    }
    accepted.push(socket);
    socket.on('error', () => {});
    socket.write('hi');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  assert.ok(addr && typeof addr === 'object');
  return { server, port: addr.port, accepted };
}

/** Connect and report whether the server greeted us ('admitted') or closed on us ('refused'). */
function attempt(port: number): Promise<{ socket: Socket; outcome: 'admitted' | 'refused' }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => reject(new Error('no answer from the test server')), 5000);
    socket.on('error', () => {});
    socket.once('data', () => { clearTimeout(timer); resolve({ socket, outcome: 'admitted' }); });
    socket.once('close', () => { clearTimeout(timer); resolve({ socket, outcome: 'refused' }); });
  });
}

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached within 2 s');
}

test('per-client cap: the extra connection is refused, closing one admits again', async () => {
  const limits = new ConnectionLimits({ maxTotal: 100, maxPerClient: 3 });
  const { server, port, accepted } = await serve(limits);
  const clients: Socket[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const r = await attempt(port);
      clients.push(r.socket);
      assert.equal(r.outcome, 'admitted');
    }
    assert.equal(limits.open, 3);
    assert.equal(limits.openFor('127.0.0.1'), 3);
    assert.equal(limits.openFor('::ffff:127.0.0.1'), 3);
    const extra = await attempt(port);
    clients.push(extra.socket);
    assert.equal(extra.outcome, 'refused');
    assert.equal(limits.refused.perClient, 1);
    assert.equal(limits.open, 3, 'a refused socket is not counted');

    clients[0]!.destroy();
    await waitFor(() => limits.open === 2);
    const again = await attempt(port);
    clients.push(again.socket);
    assert.equal(again.outcome, 'admitted');
    assert.equal(limits.open, 3);
  } finally {
    for (const s of [...clients, ...accepted]) s.destroy();
    server.close();
    await once(server, 'close');
  }
  await waitFor(() => limits.open === 0);
  assert.equal(limits.openFor('127.0.0.1'), 0, 'every close released its slot');
});

test('total cap applies across clients; server-side destroy releases too', async () => {
  const limits = new ConnectionLimits({ maxTotal: 2, maxPerClient: 10 });
  const { server, port, accepted } = await serve(limits);
  const clients: Socket[] = [];
  try {
    clients.push((await attempt(port)).socket, (await attempt(port)).socket);
    const extra = await attempt(port);
    clients.push(extra.socket);
    assert.equal(extra.outcome, 'refused');
    assert.equal(limits.refused.total, 1);
    accepted[0]!.destroy();
    await waitFor(() => limits.open === 1);
    const again = await attempt(port);
    clients.push(again.socket);
    assert.equal(again.outcome, 'admitted');
  } finally {
    for (const s of [...clients, ...accepted]) s.destroy();
    server.close();
    await once(server, 'close');
  }
});

test('0 means no limit', async () => {
  const limits = new ConnectionLimits({ maxTotal: 0, maxPerClient: 0 });
  const { server, port, accepted } = await serve(limits);
  const clients: Socket[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const r = await attempt(port);
      clients.push(r.socket);
      assert.equal(r.outcome, 'admitted');
    }
    assert.equal(limits.open, 20);
  } finally {
    for (const s of [...clients, ...accepted]) s.destroy();
    server.close();
    await once(server, 'close');
  }
});
