/**
 * A reverse proxy opened to everyone is not an open forward proxy by accident (issue 12 item 14):
 * `--upstream` with `--allow-all` on a public address and the default `forward: true` refuses to start
 * (exit 2) and tells the operator to pass --no-forward; with --no-forward it starts, serves the site and
 * refuses to relay anywhere else.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startRawOrigin, respond } from '../helpers/raw-origin.js';
import { startCli } from './cli-process.js';
import { exchange } from './support.js';

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

const ROOT = new URL('../..', import.meta.url).pathname;

async function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--port', '0', '--no-disk', '--admin-port', '0', '--access-log', 'off', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = setTimeout(() => child.kill(), 15_000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  return { code, stderr };
}

test('a reverse proxy with --allow-all on a public address and forwarding left on refuses to start (exit 2, says --no-forward)', async () => {
  const { code, stderr } = await run(['--host', '0.0.0.0', '--allow-all', '--upstream', 'http://127.0.0.1:9']);
  assert.equal(code, 2, `exit ${code}: ${stderr}`);
  assert.match(stderr, /open forward proxy/);
  assert.match(stderr, /--no-forward/);
  assert.match(stderr, /--allow-all/);
  assert.match(stderr, /--upstream/);
});

test('with --no-forward the same reverse proxy starts, serves its site and relays nowhere else', async () => {
  const site = await startRawOrigin((s, req) => respond(s, `site:${req.target}`));
  const other = await startRawOrigin((s) => respond(s, 'other'));
  cleanup.push(() => site.close(), () => other.close());
  const { child, port } = await startCli(['--host', '0.0.0.0', '--allow-all', '--upstream', site.url, '--no-forward']);
  cleanup.push(() => { child.kill(); });
  const a = await exchange(port, 'GET /page HTTP/1.1\r\nHost: site.example\r\nConnection: close\r\n\r\n');
  assert.equal(a.status, 200);
  assert.ok(a.text.endsWith('site:/page'));
  const b = await exchange(port, `GET http://${other.host}/x HTTP/1.1\r\nHost: ${other.host}\r\nConnection: close\r\n\r\n`);
  assert.equal(b.status, 403);
  assert.equal(other.requests.length, 0);
});
