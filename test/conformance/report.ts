/** Score table and failure listing for conformance results. */
import type { CaseResult } from './types.js';
import type { Mode } from './runner.js';

export interface Score { requiredPassed: number; requiredTotal: number; optimalPassed: number; optimalTotal: number; skipped: number }

/** Cases with a skipReason are run and listed but left out of the score. */
export function score(results: CaseResult[]): Score {
  const counted = results.filter((r) => !r.skipped);
  const req = counted.filter((r) => r.kind === 'required');
  const opt = counted.filter((r) => r.kind === 'optimal');
  return {
    requiredPassed: req.filter((r) => r.passed).length, requiredTotal: req.length,
    optimalPassed: opt.filter((r) => r.passed).length, optimalTotal: opt.length,
    skipped: results.length - counted.length,
  };
}

export function formatReport(byMode: Record<Mode, CaseResult[]>): string {
  const lines: string[] = ['mode      required      optimal       skipped'];
  for (const [mode, results] of Object.entries(byMode)) {
    const s = score(results);
    lines.push(`${mode.padEnd(9)} ${`${s.requiredPassed}/${s.requiredTotal}`.padEnd(13)} ${`${s.optimalPassed}/${s.optimalTotal}`.padEnd(13)} ${s.skipped}`);
  }
  for (const [mode, results] of Object.entries(byMode)) {
    const failing = results.filter((r) => !r.passed && !r.skipped);
    if (failing.length === 0) continue;
    lines.push('', `failing in ${mode} mode:`);
    for (const r of failing) {
      lines.push(`  [${r.kind}] ${r.id} (${r.group})`);
      for (const p of r.problems) lines.push(`      ${p}`);
    }
  }
  const skipped = Object.values(byMode)[0]?.filter((r) => r.skipped) ?? [];
  if (skipped.length > 0) {
    lines.push('', 'not counted (deliberate differences):');
    for (const r of skipped) lines.push(`  ${r.id}: ${r.skipped}${r.passed ? ' (passes anyway)' : ''}`);
  }
  return lines.join('\n');
}
