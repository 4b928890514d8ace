/** One option schema for flags, LARDER_* environment and the YAML file, in that precedence. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { parseSize, parseDuration } from '../../src/config/units.js';

const file = (text: string) => {
  const p = join(mkdtempSync(join(tmpdir(), 'larder-cfg-')), 'larder.yaml');
  writeFileSync(p, text);
  return p;
};

test('precedence: flags over environment over the config file over defaults', () => {
  const cfg = file('port: 1111\nmemory-size: 10MB\nconnectTimeout: 3s\n');
  assert.equal(loadConfig(['--config', cfg], {}).config.port, 1111);
  assert.equal(loadConfig(['--config', cfg], { LARDER_PORT: '2222' }).config.port, 2222);
  assert.equal(loadConfig(['--config', cfg, '--port', '3333'], { LARDER_PORT: '2222' }).config.port, 3333);
  const c = loadConfig(['--config', cfg], {}).config;
  assert.equal(c.memorySize, 10_000_000);
  assert.equal(c.connectTimeout, 3000);
  assert.equal(loadConfig([], {}).config.port, 3128);
  assert.equal(loadConfig([], { LARDER_CONFIG: cfg }).config.port, 1111);
});

test('booleans, lists and --no- flags', () => {
  const c = loadConfig(['--no-disk', '--allow', '10.0.0.0/8, 192.168.0.0/16', '--intercept'], {}).config;
  assert.equal(c.disk, false);
  assert.deepEqual(c.allow, ['10.0.0.0/8', '192.168.0.0/16']);
  assert.equal(c.intercept, true);
  assert.equal(loadConfig(['--port=8080'], {}).config.port, 8080);
});

test('errors name the key and what was expected', () => {
  assert.throws(() => loadConfig(['--eviction', 'fifo'], {}), (e: Error) => e instanceof ConfigError && /--eviction: expected one of lru, gdsf/.test(e.message));
  assert.throws(() => loadConfig(['--upstream', 'ftp://x'], {}), /upstream: expected an http:\/\/ or https:\/\/ URL/);
  assert.throws(() => loadConfig(['--config', file('rules:\n  - name: x\n')], {}), /rules\.0\.pattern/);
  assert.throws(() => loadConfig(['--config', '/nonexistent/larder.yaml'], {}), /cannot read \(ENOENT\)/);
  assert.throws(() => loadConfig(['--config', file('port: [1, 2\n')], {}), /invalid YAML/);
  assert.throws(() => loadConfig(['--port'], {}), /--port: missing value/);
  assert.throws(() => loadConfig(['--port', '70000'], {}), /port: expected 0\.\.65535/);
});

test('sizes and durations in human units', () => {
  assert.equal(parseSize('256MB'), 256_000_000);
  assert.equal(parseSize('10GiB'), 10 * 1024 ** 3);
  assert.equal(parseSize('lots'), undefined);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('7d'), 7 * 86_400_000);
  assert.equal(parseDuration(10), 10_000);
  assert.equal(parseDuration('-1s'), undefined);
});
