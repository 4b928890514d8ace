/**
 * The shape of a conformance case, modelled on the HTTP cache tests of cache-tests.fyi
 * (github.com/http-tests/cache-tests): a sequence of requests, what the origin answers to each, and what
 * the client and the origin should see. Kinds follow that suite: `required` for MUST-level behaviour,
 * `optimal` for what an optimal shared cache does (SHOULD / MAY).
 */

/** A header value: literal, or an HTTP-date computed when sent. */
export type Value =
  | string
  /** seconds relative to the moment the message is sent (Expires in the future, a Date in the past) */
  | { fromNow: number }
  /** seconds relative to the start of the run: stable across steps (Last-Modified, If-Modified-Since) */
  | { ago: number; format?: 'imf' | 'rfc850' | 'asctime' };

export type HeaderList = [string, Value][];

export type Expectation =
  /** served from the cache without contacting the origin */
  | 'cached'
  /** the origin answered this request with a full response */
  | 'not_cached'
  /** the origin saw a conditional request (If-None-Match or If-Modified-Since) for it */
  | 'validated'
  | 'etag_validated'
  | 'lm_validated';

export interface Step {
  method?: string;
  /** appended to the case's path (a second resource of the same case) */
  path?: string;
  /** appended after the path, e.g. "?a=b" */
  query?: string;
  requestHeaders?: HeaderList;
  requestBody?: string;
  /** seconds to wait before sending this request */
  pause?: number;

  // what the origin answers; status/responseHeaders/body are inherited from the previous step when absent
  status?: number;
  responseHeaders?: HeaderList;
  /** response body; default "<mode>:<id>#<step>"; null for none */
  body?: string | null;
  /** the origin sends no Date header */
  noDate?: boolean;
  /** the origin closes the connection without answering */
  disconnect?: boolean;
  /** the origin answers a matching conditional request with 304 (implied by the *_validated expectations) */
  answer304?: boolean;

  expect?: Expectation;
  /** a background revalidation triggered by this step is fine (stale-while-revalidate) */
  allowBackground?: boolean;
  expectStatus?: number;
  /** [name, exact value | pattern | true (present)] */
  expectHeaders?: [string, string | RegExp | true][];
  expectHeadersMissing?: string[];
  expectBody?: string;
  /** the request the origin saw for this step carried these */
  expectRequestHeaders?: [string, string | RegExp | true][];
  expectRequestHeadersMissing?: string[];
}

export interface Case {
  id: string;
  group: string;
  name: string;
  kind: 'required' | 'optimal';
  steps: Step[];
  /** a documented, deliberate difference from the suite's expectation: the case runs but does not count */
  skipReason?: string;
  /** run in this mode only (behaviour that differs by mode, e.g. CDN-Cache-Control) */
  onlyIn?: 'forward' | 'reverse';
}

export interface CaseResult {
  id: string;
  group: string;
  kind: 'required' | 'optimal';
  passed: boolean;
  skipped?: string;
  /** what differed, one line per difference */
  problems: string[];
}
