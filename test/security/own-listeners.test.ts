/**
 * The proxy never reaches its own listeners, and the proxy host's loopback is not a destination for
 * clients elsewhere (issue 12 item 3):
 * - the admin API (which trusts loopback callers) and the proxy port are refused as destinations on
 *   every address and name of the machine, for absolute-form requests and CONNECT, whoever asks;
 * - loopback destinations (127.0.0.0/8, ::1, localhost) are refused to clients not on loopback, like
 *   Squid's `to_localhost`, unless allowLocalhostDestinations; a loopback client is still served, and the
 *   configured reverse upstream on loopback stays reachable;
 * - a name that is not a localhost name but resolves to loopback is refused at lookup.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { startTestLarder, type TestLarder } from '../helpers/larder.js';
import { startRawOrigin, respond, type RawOrigin } from '../helpers/raw-origin.js';
import { DestinationPolicy } from '../../src/proxy/destination.js';

const cleanup: (() => Promise<void>)[] = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

async function origin(): Promise<RawOrigin> {
  const o = await startRawOrigin((s, req) => respond(s, `origin:${req.target}`, ['Cache-Control: max-age=600']));
  cleanup.push(() => o.close());
  return o;
}
async function larder(overrides: Parameters<typeof startTestLarder>[0], adminEphemeral = false): Promise<TestLarder> {
  const l = await startTestLarder(overrides, { adminEphemeral });
  cleanup.push(() => l.stop());
  return l;
}

/** Send `data` to host:port (from localAddress) and read until close; status of the first response. */
function send(host: string, port: number, data: string, localAddress?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(t);
      s.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text });
    };
    const t = setTimeout(done, 3000);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('close', done);
    s.on('error', done);
    s.write(data);
  });
}
const get = (port: number, url: string, from?: { host: string; local: string }) =>
  send(from?.host ?? '127.0.0.1', port, `GET ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nConnection: close\r\n\r\n`, from?.local);
const connect = (port: number, authority: string, from?: { host: string; local: string }) =>
  send(from?.host ?? '127.0.0.1', port, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`, from?.local);

/** A non-loopback IPv4 address of this machine (a client address that is not loopback), if any. */
function interfaceAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}
const ifaceAddr = interfaceAddress();

/** Every spelling of "this machine" a client could aim at. */
function localHosts(): string[] {
  const hosts = ['127.0.0.1', '127.0.0.2', 'localhost', '[::1]', '2130706433', '0x7f.1', '[::ffff:127.0.0.1]', hostname()];
  if (ifaceAddr) hosts.push(ifaceAddr);
  return hosts;
}

test('[forward] the admin API is not reachable through the proxy on any address of the machine (GET, POST /purge, CONNECT)', async () => {
  const o = await origin();
  const l = await larder({ connectPorts: ['*'] }, true);
  assert.ok(l.adminPort, 'admin listener not started');
  // a cached entry the purge would remove
  const url = `http://${o.host}/keep`;
  assert.equal((await get(l.port, url)).status, 200);
  for (const host of localHosts()) {
    const stats = await get(l.port, `http://${host}:${l.adminPort}/stats`);
    assert.ok(stats.status === 403, `GET /stats via ${host}: ${JSON.stringify(stats.text.slice(0, 300))}`);
    assert.match(stats.text, /own admin listener|unspecified/, host);
    const body = JSON.stringify({ url });
    const purge = await send('127.0.0.1', l.port, `POST http://${host}:${l.adminPort}/purge HTTP/1.1\r\nHost: ${host}:${l.adminPort}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    assert.equal(purge.status, 403, `POST /purge via ${host}: ${JSON.stringify(purge.text.slice(0, 300))}`);
    const tunnel = await connect(l.port, `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${l.adminPort}`);
    assert.equal(tunnel.status, 403, `CONNECT via ${host}: ${JSON.stringify(tunnel.text.slice(0, 300))}`);
  }
  assert.equal(o.count('/keep'), 1);
  await get(l.port, url);
  assert.equal(o.count('/keep'), 1, 'the stored entry was purged through the proxy');
});

test('[forward] the proxy port itself is never a destination: absolute-form is a loop (508 or 403), CONNECT is 403', async () => {
  const l = await larder({ connectPorts: ['*'] });
  const before = l.records.length;
  for (const host of localHosts()) {
    const r = await get(l.port, `http://${host}:${l.port}/self`);
    assert.ok(r.status === 508 || r.status === 403, `GET via ${host}: ${JSON.stringify(r.text.slice(0, 300))}`);
    const c = await connect(l.port, `${host}:${l.port}`);
    assert.equal(c.status, 403, `CONNECT via ${host}: ${JSON.stringify(c.text.slice(0, 300))}`);
  }
  // at most one record per refusal (a CONNECT's record may land after its socket closed): nothing came back in through the proxy
  assert.ok(l.records.length - before <= localHosts().length * 2, `${l.records.length - before} records for ${localHosts().length * 2} requests`);
});

test('[forward] loopback destinations are refused to a client not on loopback, served to a loopback client, and allowed by allowLocalhostDestinations', { skip: ifaceAddr ? false : 'no non-loopback interface address to connect from' }, async () => {
  const o = await origin();
  const from = { host: ifaceAddr!, local: ifaceAddr! };
  const l = await larder({ host: '0.0.0.0', allowAll: true, connectPorts: ['*'] });
  for (const host of ['127.0.0.1', 'localhost', '127.1.2.3', '[::ffff:127.0.0.1]', '2130706433']) {
    const r = await get(l.port, `http://${host}:${o.port}/far`, from);
    assert.equal(r.status, 403, `remote GET ${host}: ${JSON.stringify(r.text.slice(0, 300))}`);
    assert.match(r.text, /loopback/);
    const c = await connect(l.port, `${host}:${o.port}`, from);
    assert.equal(c.status, 403, `remote CONNECT ${host}: ${JSON.stringify(c.text.slice(0, 300))}`);
  }
  assert.equal(o.count(), 0, 'a remote client reached a loopback service');
  // the same machine gains nothing it could not reach directly: served
  const near = await get(l.port, `http://127.0.0.1:${o.port}/near`);
  assert.equal(near.status, 200);
  assert.equal(o.count('/near'), 1);
  // the operator can open loopback to remote clients
  const open = await larder({ host: '0.0.0.0', allowAll: true, allowLocalhostDestinations: true });
  const far = await get(open.port, `http://127.0.0.1:${o.port}/opened`, from);
  assert.equal(far.status, 200, JSON.stringify(far.text.slice(0, 300)));
  assert.equal(o.count('/opened'), 1);
});

test('[reverse] a configured upstream on loopback stays reachable for clients not on loopback', { skip: ifaceAddr ? false : 'no non-loopback interface address to connect from' }, async () => {
  const o = await origin();
  const l = await larder({ host: '0.0.0.0', allowAll: true, upstream: o.url, forward: false });
  const r = await send(ifaceAddr!, l.port, 'GET /site HTTP/1.1\r\nHost: site.example\r\nConnection: close\r\n\r\n', ifaceAddr);
  assert.equal(r.status, 200, JSON.stringify(r.text.slice(0, 300)));
  assert.equal(o.count('/site'), 1);
});

test('a name that is not a localhost name but resolves to loopback is refused at lookup (DNS rebinding to 127.0.0.1)', async () => {
  const resolve = async (name: string) => [{ address: name === 'v6.example' ? '::1' : '127.0.0.1', family: name === 'v6.example' ? 6 : 4 }];
  const p = new DestinationPolicy({ denyHosts: [], denyCidrs: [], connectPorts: ['*'], resolve, exemptHosts: ['upstream.internal'] });
  const lookup = (name: string) => new Promise<string>((res, rej) => p.lookup(name, {}, (err, address) => (err ? rej(err) : res(String(address)))));
  await assert.rejects(lookup('rebind.example'), /resolves to 127\.0\.0\.1: a loopback address/);
  await assert.rejects(lookup('v6.example'), /resolves to ::1/);
  await assert.rejects(p.resolveForConnect('rebind.example', 443), /loopback/);
  assert.equal(await lookup('localhost'), '127.0.0.1');
  assert.equal(await lookup('app.localhost'), '127.0.0.1');
  assert.equal(await lookup('upstream.internal'), '127.0.0.1', 'the configured upstream is the operator\'s choice');
  const open = new DestinationPolicy({ denyHosts: [], denyCidrs: [], connectPorts: ['*'], resolve, allowLocalhostDestinations: true });
  assert.equal(await new Promise<string>((res, rej) => open.lookup('rebind.example', {}, (err, a) => (err ? rej(err) : res(String(a))))), '127.0.0.1');
});
