import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePortRanges, portInRanges } from '../../src/net/ports.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

test('port ranges: numbers, rising ranges and *, anything else a ConfigError naming the key', () => {
  const r = parsePortRanges(['443', ' 8443 ', '9000-9010'], 'connectPorts');
  assert.deepEqual(r, [{ from: 443, to: 443 }, { from: 8443, to: 8443 }, { from: 9000, to: 9010 }]);
  assert.equal(portInRanges(9005, r), true);
  assert.equal(portInRanges(9011, r), false);
  assert.equal(portInRanges(443.5, r), false);
  assert.equal(portInRanges(65536, parsePortRanges(['*'], 'connectPorts')), false);
  for (const bad of ['0', '65536', '2000-1000', 'ssh', '1-', '-5']) {
    assert.throws(() => parsePortRanges([bad], 'connectPorts'), (e: unknown) => e instanceof ConfigError && /^connectPorts: .*got "/.test(e.message), bad);
  }
});

test('--connect-ports is checked once, by the same parser, when the config loads (0, 70000 and 2000-1000 used to pass the load)', () => {
  for (const bad of ['0', '70000', '2000-1000']) {
    assert.throws(() => loadConfig(['--connect-ports', bad], {}), (e: unknown) => e instanceof ConfigError && /connectPorts: expected port numbers or ranges/.test(e.message), bad);
  }
  assert.deepEqual(loadConfig(['--connect-ports', '443,1000-2000'], {}).config.connectPorts, ['443', '1000-2000']);
});
