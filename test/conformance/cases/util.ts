/** Small builders for the case tables. */
import type { Case, HeaderList, Step } from '../types.js';

/** Long enough that a response with max-age=1 is stale, short enough to keep the suite quick. */
export const PAUSE = 2;

/** A response stored by step 0, then a plain second request with the given expectation. */
export function twoStep(group: string, kind: Case['kind'], id: string, name: string, first: Partial<Step>, second: Partial<Step>): Case {
  return { id, group, kind, name, steps: [{ ...first }, { ...second }] };
}

export const cc = (v: string): [string, string] => ['Cache-Control', v];

/** Step 0 answers with these headers; step 1 (after `pause` seconds) expects `expect`. */
export function reuse(group: string, kind: Case['kind'], id: string, name: string, headers: HeaderList, expect: Step['expect'], pause = 0, extra: Partial<Step> = {}): Case {
  return twoStep(group, kind, id, name, { responseHeaders: headers }, { expect, ...(pause ? { pause } : {}), ...extra });
}
