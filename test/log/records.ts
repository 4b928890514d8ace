/** Sample AccessRecords shared by the log and admin tests. */
import type { AccessRecord } from '../../src/log/record.js';

export function record(over: Partial<AccessRecord> = {}): AccessRecord {
  return {
    startTime: Date.UTC(2024, 9, 10, 13, 55, 36, 123),
    durationMs: 42.5,
    upstreamMs: 30.2,
    clientAddress: '127.0.0.1',
    clientPort: 50123,
    method: 'GET',
    url: 'http://example.test/a/b?c=1',
    httpVersion: '1.1',
    status: 200,
    bytesSent: 1234,
    bytesReceived: 0,
    cache: 'miss',
    cacheStatus: 'larder; fwd=miss; stored',
    upstreamAddress: '10.0.0.1:80',
    contentType: 'text/html; charset=utf-8',
    referer: 'http://ref.test/',
    userAgent: 'curl/8.5.0',
    ...over,
  };
}
