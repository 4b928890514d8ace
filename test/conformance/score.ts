/**
 * Prints the conformance score per mode: `node --import tsx test/conformance/score.ts [id-substring]`.
 */
import { allCases } from './cases/index.js';
import { startHarness, type Mode } from './runner.js';
import { formatReport } from './report.js';
import type { CaseResult } from './types.js';

const filter = process.argv[2];
const cases = filter ? allCases.filter((c) => c.id.includes(filter)) : allCases;
const harness = await startHarness();
try {
  const [forward, reverse] = await Promise.all((['forward', 'reverse'] as Mode[]).map((m) => harness.run(cases, m)));
  const byMode: Record<Mode, CaseResult[]> = { forward: forward!, reverse: reverse! };
  console.log(formatReport(byMode));
} finally {
  await harness.close();
}
