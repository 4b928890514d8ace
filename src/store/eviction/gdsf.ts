/**
 * Greedy-Dual-Size-Frequency, as in Squid's heap GDSF (src/repl/heap/store_heap_replacement.cc):
 *   key = L + frequency × cost / size,  cost = 1,  size in KiB (+1 so tiny objects stay finite),
 * and L ("inflation") becomes the key of each evicted entry, so entries not hit for a long time age out.
 * It favours small, popular objects: best object hit ratio, lower byte hit ratio than LRU.
 * Cherkasova, "Improving WWW Proxies Performance with Greedy-Dual-Size-Frequency Caching Policy" (HPL-98-69).
 */
import type { EvictionPolicy } from './types.js';

export const gdsf: EvictionPolicy = {
  name: 'gdsf',
  priority: (state, inflation) => inflation + state.frequency / (state.size / 1024 + 1),
  inflationAfterEvict: (inflation, evicted) => Math.max(inflation, evicted),
};
