/**
 * Running out of file descriptors must not crash larder (issue 12 item 13): the CLI runs under
 * `ulimit -n 256` with the default disk store, and 300 client connections are opened at once. Cached
 * responses are still served on the connections it accepted, a miss that cannot open an upstream
 * connection gets a 502, and once clients go away it serves misses again.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { tempDir } from '../store/helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;

/** Send one request on an open socket; resolves with the status line's code, or 0 when the socket closed first. */
function requestOn(socket: net.Socket, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    let got = '';
    const done = () => {
      socket.off('data', onData);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0), text: got });
    };
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = /content-length: (\d+)/i.exec(got.slice(0, end));
      if (len ? got.length >= end + 4 + Number(len[1]) : got.endsWith('\r\n0\r\n\r\n')) done();
    };
    socket.on('data', onData);
    socket.once('close', done);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: fd.test\r\n\r\n`);
  });
}

describe('file descriptor exhaustion', () => {
  it('under ulimit -n 256, 300 connections do not crash it; hits are served, misses get a 502, and it recovers', { timeout: 90_000 }, async (t) => {
    const originServer = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': req.url === '/cached' ? 'max-age=600' : 'no-store' });
      res.end(`origin ${req.url}`);
    });
    await new Promise<void>((r) => originServer.listen(0, '127.0.0.1', r));
    after(() => originServer.close());
    const upstream = `http://127.0.0.1:${(originServer.address() as AddressInfo).port}`;
    const cacheDir = tempDir('larder-fd-');
    const cmd = `ulimit -n 256 && exec "${process.execPath}" --import tsx src/cli.ts --port 0 --admin-port 0 --access-log off --log-level warn --cache-dir "${cacheDir}" --upstream ${upstream}`;
    const child = spawn('bash', ['-c', cmd], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    after(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`did not start: ${stderr}`)), 20_000);
      child.stderr!.on('data', () => {
        const m = /listening on http:\/\/[^:]+:(\d+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (c) => reject(new Error(`exited ${c}: ${stderr}`)));
    });
    let exited: string | undefined;
    child.once('exit', (code, signal) => (exited = `code ${code}, signal ${signal}`));

    // warm the cache while descriptors are plentiful
    const warm = net.connect(port, '127.0.0.1');
    await new Promise((r) => warm.once('connect', r));
    assert.equal((await requestOn(warm, '/cached')).status, 200);
    warm.destroy();

    // 300 connections: more than the process can hold
    const sockets: net.Socket[] = [];
    for (let i = 0; i < 300; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      sockets.push(s);
    }
    await Promise.all(sockets.map((s) => new Promise<void>((r) => {
      if (s.readyState === 'open') return r();
      s.once('connect', () => r());
      s.once('close', () => r());
    })));
    // the descriptors did run out: libuv accepts and at once closes what it cannot hold
    await new Promise((r) => setTimeout(r, 500));
    // (whether libuv closed some at once or the kernel keeps them waiting in the backlog depends on the
    // Node line and timing: the behaviour under test is that the proxy survives and recovers)
    const shut = sockets.filter((s) => s.destroyed || s.readyState !== 'open').length;
    t.diagnostic(`${shut} of the 300 connections were closed for want of descriptors`);
    // the first 40 were accepted before the descriptors ran out: hits are served on them
    const hits = await Promise.all(sockets.slice(0, 40).map((s) => requestOn(s, '/cached')));
    const served = hits.filter((h) => h.status === 200 && h.text.includes('origin /cached')).length;
    assert.ok(served >= 30, `${served} of 40 cached requests served while out of descriptors`);
    // a miss needs an upstream socket: answered from the origin when one is free, else a 502, never a crash
    const misses = await Promise.all(sockets.slice(40, 50).map((s) => requestOn(s, '/uncached')));
    for (const m of misses) assert.ok(m.status === 200 || m.status === 502, `miss answered ${m.status}`);
    assert.equal(exited, undefined, 'still running');

    for (const s of sockets) s.destroy();
    // recovery: once the clients are gone, misses reach the origin again
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      await new Promise((r) => { s.once('connect', r); s.once('close', r); });
      status = (await requestOn(s, '/uncached')).status;
      s.destroy();
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 200, 'serves misses again');
    assert.equal(exited, undefined, 'still running');
    assert.doesNotMatch(stderr, /uncaught|unhandled|EMFILE.*\n\s+at /i, 'no crash trace');
  });
});
