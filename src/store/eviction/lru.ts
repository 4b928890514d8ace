/** Least recently used: the priority is the time of the last access. */
import type { EvictionPolicy } from './types.js';

export const lru: EvictionPolicy = {
  name: 'lru',
  priority: (state) => state.now,
  inflationAfterEvict: (inflation) => inflation,
};
