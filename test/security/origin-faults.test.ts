/**
 * Broken origins: each fault gives the client 502/504 (or a cut connection once the head is out, never a
 * body that looks complete), nothing partial is stored (the next request reaches the origin again), and
 * the proxy keeps serving others. Forward and reverse mode; responses say max-age=600 so a stored copy
 * would be served.
 */
import { test, before, after } from 'node:test';
import { MAX_RELAYED } from '../../src/proxy/interim.js';
import assert from 'node:assert/strict';
import { startTestLarder, type TestLarder } from '../helpers/larder.js';
import { startRawOrigin, faults, type RawOrigin, type Behaviour } from '../helpers/raw-origin.js';
import { exchange, assertStillServes, wellFormed, type Mode } from './support.js';

interface Fault {
  name: string;
  behaviour: Behaviour;
  /** statuses acceptable: 200 means "head out, then the connection must be cut"; 0 means closed before
   *  any byte (the head was written but not flushed when the body failed) */
  status: number[];
}

const FAULTS: Fault[] = [
  { name: 'reset mid-body', behaviour: faults.resetMidBody(), status: [200, 502] },
  { name: 'short Content-Length (origin closes early)', behaviour: faults.shortContentLength(), status: [200, 502] },
  { name: 'truncated chunked body', behaviour: faults.truncatedChunked(), status: [200, 502] },
  { name: 'garbage status line', behaviour: faults.garbageStatus(), status: [502] },
  { name: 'header flood (500 fields)', behaviour: faults.headerFlood(500), status: [502] },
  { name: 'never answers', behaviour: faults.never(), status: [504] },
  { name: 'unsolicited 101 Switching Protocols', behaviour: faults.unsolicited101(), status: [502] },
  { name: '1xx flood (2000 × 102) then a response', behaviour: faults.infoFlood(2000), status: [200, 502] },
  { name: 'response with both Content-Length and Transfer-Encoding', behaviour: faults.clAndTe(), status: [502] },
  { name: 'response with duplicate differing Content-Length', behaviour: faults.duplicateContentLength(), status: [502] },
  { name: 'response with an invalid chunk size', behaviour: faults.badChunkSize(), status: [0, 200, 502] },
];

let origin: RawOrigin;
const larders: Partial<Record<Mode, TestLarder>> = {};
before(async () => {
  origin = await startRawOrigin(faults.ok());
  const limits = { upstreamTimeout: 700, idleTimeout: 700, connectTimeout: 700, maxResponseHeaders: 200 };
  larders.forward = await startTestLarder(limits);
  larders.reverse = await startTestLarder({ ...limits, upstream: origin.url, forward: false });
});
after(async () => {
  await larders.forward?.stop();
  await larders.reverse?.stop();
  await origin.close();
});

for (const mode of ['forward', 'reverse'] as Mode[]) {
  for (const f of FAULTS) {
    test(`[${mode}] ${f.name}`, async () => {
      const port = larders[mode]!.port;
      const path = `/fault-${Math.random().toString(36).slice(2)}`;
      origin.behave(f.behaviour);
      const r = await exchange(port, wellFormed(mode, origin, path), 5000);
      if (f.name.startsWith('1xx')) {
        // interim heads are relayed (RFC 9110 §15.2), a bounded number of them; then the final response
        const interim = r.text.match(/^(HTTP\/1\.1 1\d\d [^\r]*\r\n(?:[^\r]+\r\n)*\r\n)+/)?.[0] ?? '';
        assert.ok((interim.match(/HTTP\/1\.1 1/g) ?? []).length <= MAX_RELAYED, 'a flood of 1xx heads was relayed');
        r.text = r.text.slice(interim.length);
        r.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(r.text)?.[1] ?? 0);
      }
      if (r.status === 0) assert.ok(r.closed, 'no response and the connection left open');
      assert.ok(f.status.includes(r.status), `got ${r.status || 'no response'}: ${JSON.stringify(r.text.slice(0, 200))}`);
      assert.ok(!/RAW-TUNNEL-BYTES/.test(r.text), 'bytes after an unsolicited 101 reached the client');
      assert.ok(!/^HTTP\/1\.1 101/.test(r.text), 'an unsolicited 101 was forwarded');
      if (r.status === 200) {
        assert.ok(r.closed, 'connection not cut');
        const body = r.text.slice(r.text.indexOf('\r\n\r\n') + 4);
        if (f.name.startsWith('1xx')) assert.equal(body, 'after-1xx');
        else {
          // a cut body must not look complete: CL mismatch or no terminating chunk
          const cl = /\r\ncontent-length: (\d+)/i.exec(r.text);
          if (cl) assert.ok(body.length < Number(cl[1]), 'a truncated body was passed off as complete');
          else assert.ok(!body.endsWith('0\r\n\r\n'), 'a truncated chunked body was terminated as complete');
        }
      }
      // nothing partial stored: the same URL reaches the origin again
      origin.behave(faults.ok('fresh', ['Cache-Control: max-age=600']));
      const before = origin.count(path);
      const again = await exchange(port, wellFormed(mode, origin, path), 3000);
      if (!f.name.startsWith('1xx')) {
        assert.equal(again.status, 200);
        assert.ok(again.text.endsWith('fresh'), `served ${JSON.stringify(again.text.slice(-40))}`);
        assert.equal(origin.count(path), before + 1, 'a broken response was served from cache');
      }
      origin.behave(faults.ok());
      await assertStillServes(port, mode, origin, f.name);
    });
  }
}
