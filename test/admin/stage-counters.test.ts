/**
 * Counters kept as plain numbers by the stages that count them (connection caps, the fast path, the store
 * tee, ...) reach /metrics under their names, with their values, at scrape time.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { startOrigin } from '../helpers/origin.js';
import { startTestLarder } from '../helpers/larder.js';

const cleanup: (() => Promise<unknown> | void)[] = [];
after(async () => { for (const c of cleanup.reverse()) await c(); });

function metric(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
}

test('connection-cap refusals and fast-path answers are exported by /metrics', async () => {
  const origin = await startOrigin((_req, res) => { res.writeHead(200, { 'Cache-Control': 'max-age=600' }); res.end('x'); });
  const larder = await startTestLarder({ upstream: origin.url, maxConnectionsPerClient: 2 }, { adminEphemeral: true });
  cleanup.push(() => larder.stop(), () => origin.close());
  const scrape = async () => (await fetch(`http://127.0.0.1:${larder.adminPort}/metrics`)).text();
  const before = await scrape();
  assert.equal(metric(before, 'larder_connections_refused_total', '{reason="per_client"}'), 0);
  assert.equal(metric(before, 'larder_fast_path_responses_total'), 0);
  for (const name of ['larder_auth_limiter_evictions_total', 'larder_tls_handshake_failures_total', 'larder_collapse_refused_total', 'larder_store_slow_commits_total', 'larder_fills_abandoned_total']) {
    assert.equal(metric(before, name), 0, name);
  }

  const held = await Promise.all([0, 1].map(async () => { const s = net.connect(larder.port, '127.0.0.1'); await once(s, 'connect'); return s; }));
  const third = net.connect(larder.port, '127.0.0.1');
  await once(third, 'close');
  await Promise.all(held.map((s) => { s.destroy(); return once(s, 'close'); }));
  // the proxy counts a connection gone on its own 'close', a moment after ours
  await new Promise((r) => setTimeout(r, 200));

  // a connection on which a request went to node:http stays there: each request on a connection of its own
  for (let i = 0; i < 6; i++) await (await fetch(`${larder.url}/a`, { headers: { connection: 'close' } })).text();
  const afterText = await scrape();
  assert.ok(metric(afterText, 'larder_connections_refused_total', '{reason="per_client"}') >= 1);
  assert.equal(metric(afterText, 'larder_fast_path_responses_total'), larder.fastPath.served);
  assert.ok(larder.fastPath.served >= 1, `fast path answered ${larder.fastPath.served}`);
});
