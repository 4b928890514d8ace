/**
 * Starts a real larder on 127.0.0.1 (ephemeral port) for integration tests, with a memory store by
 * default, no access log, diagnostics silenced.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startLarder, type Larder, type StartOptions } from '../../src/app.js';
import { makeConfig, type Config } from '../../src/config/load.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { AccessRecord } from '../../src/log/record.js';

export interface TestLarder extends Larder {
  url: string;
  records: AccessRecord[];
  config: Config;
  stop(): Promise<void>;
}

export async function startTestLarder(overrides: Partial<Config> = {}, opts: StartOptions & { memoryStore?: boolean } = {}): Promise<TestLarder> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-test-'));
  const config = makeConfig({
    port: 0,
    adminPort: 0,
    accessLog: 'off',
    logLevel: 'silent',
    // LARDER_TEST_DISK=1 runs the integration tests on the default tiered LMDB store instead of memory
    disk: process.env.LARDER_TEST_DISK === '1',
    cacheDir: join(dir, 'cache'),
    caDir: join(dir, 'ca'),
    shutdownTimeout: 2000,
    ...overrides,
  });
  const records: AccessRecord[] = [];
  const useMemory = opts.memoryStore ?? !config.disk;
  const larder = await startLarder(config, {
    log: pino({ level: 'silent' }),
    observers: [{ onRequest: (r) => records.push(r) }],
    store: useMemory && !opts.store ? new MemoryStore({ budget: config.memorySize, maxObjectSize: config.maxObjectSize }) : opts.store,
    adminEphemeral: opts.adminEphemeral,
    hostLookup: opts.hostLookup,
    clock: opts.clock,
  });
  return Object.assign(larder, {
    url: `http://127.0.0.1:${larder.port}`,
    records,
    config,
    async stop() {
      await larder.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
