/** Every conformance case, in report order. */
import type { Case } from '../types.js';
import { freshnessCases } from './freshness.js';
import { cacheControlCases } from './cache-control.js';
import { ageCases, statusCases } from './age-status.js';
import { conditionalCases, update304Cases } from './conditional.js';
import { invalidationCases, varyCases } from './invalidation-vary.js';
import { headerCases, partialCases, staleCases, methodCases, otherCases } from './other.js';
import { probeCases } from './probes.js';
import { cdnCacheControlCases } from './cdn-cache-control.js';
import { partialContentCases } from './partial-content.js';

export const allCases: Case[] = [
  ...freshnessCases, ...cacheControlCases, ...ageCases, ...statusCases, ...conditionalCases, ...update304Cases,
  ...invalidationCases, ...varyCases, ...headerCases, ...partialCases, ...partialContentCases, ...staleCases, ...methodCases, ...otherCases, ...probeCases, ...cdnCacheControlCases,
];

const seen = new Set<string>();
for (const c of allCases) {
  if (seen.has(c.id)) throw new Error(`duplicate conformance case id ${c.id}`);
  seen.add(c.id);
}
