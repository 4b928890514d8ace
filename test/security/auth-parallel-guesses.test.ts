/**
 * The failure limit holds against guesses sent in parallel: a check counts as it starts, so from one
 * address at most the limit (10) are verified at once and the rest get 429 without hashing; and the
 * hashing (bcrypt, pure JS) runs off the event loop, so another client is answered quickly meanwhile.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { startCli } from './cli-process.js';
import { startRawOrigin, faults } from '../helpers/raw-origin.js';
import { basic, tempDir } from '../helpers/htpasswd-fixtures.js';
import { exchange, targetFor } from './support.js';

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

test('300 parallel wrong guesses from one address: at most the limit are checked (the rest 429), and another client is answered meanwhile', async () => {
  const dir = tempDir();
  cleanup.push(() => dir.remove());
  // cost 10, as htpasswd -B makes by default: tens of ms of CPU per check
  const file = dir.write('htpasswd', `alice:${bcrypt.hashSync('correct horse', 10)}\n`);
  const origin = await startRawOrigin(faults.ok());
  // the proxy in its own process: the time another client waits is the proxy's, not this test's
  const { child, port } = await startCli(['--auth-file', file]);
  cleanup.push(() => origin.close(), () => { child.kill('SIGKILL'); });
  const larder = { port };
  const { target, host } = targetFor('forward', origin, '/guess');
  const req = (auth: string) => `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\nProxy-Authorization: ${auth}\r\n\r\n`;

  // alice is served, and her credentials are now verified (remembered)
  assert.equal((await exchange(larder.port, req(basic('alice', 'correct horse')), 5000)).status, 200);

  // the guesses that are not checked are answered at once; the checked ones are hashed after them
  let answers = 0;
  let uncheckedAnswered!: () => void;
  const answered = new Promise<void>((r) => { uncheckedAnswered = r; });
  const guesses = Array.from({ length: 300 }, (_, i) => exchange(larder.port, req(basic('alice', `guess-${i}`)), 30_000, 0, '127.0.0.3')
    .then((r) => { if (++answers >= 290) uncheckedAnswered(); return r; }));
  // while the checked guesses may still be hashing, alice's next request is answered quickly
  await answered;
  const started = Date.now();
  const honest = await exchange(larder.port, req(basic('alice', 'correct horse')), 20_000);
  const honestMs = Date.now() - started;
  const statuses = (await Promise.all(guesses)).map((r) => r.status);

  const count = (s: number) => statuses.filter((x) => x === s).length;
  assert.ok(count(407) <= 10, `${count(407)} guesses were checked (407), limit is 10; statuses: 429×${count(429)}, other: ${statuses.filter((s) => s !== 407 && s !== 429).join(',')}`);
  assert.equal(count(407) + count(429), 300, `unexpected answers: ${statuses.filter((s) => s !== 407 && s !== 429).join(',')}`);
  assert.equal(honest.status, 200);
  assert.ok(honestMs < 1000, `another client waited ${honestMs} ms while the guesses were checked`);
  // the address stays limited for its next guess, the right password included
  assert.equal((await exchange(larder.port, req(basic('alice', 'correct horse')), 5000, 0, '127.0.0.3')).status, 429);
});
