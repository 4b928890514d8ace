/** The cache engine's way to the origin: the upstream client, with the response fields as end-to-end pairs. */
import type { UpstreamPort } from '../cache/request.js';
import type { UpstreamClient } from '../upstream/client.js';
import { objectToPairs } from './headers.js';

export function upstreamPort(client: UpstreamClient): UpstreamPort {
  return {
    async request(req) {
      const up = await client.request(req);
      return { status: up.status, headers: up.headers, pairs: objectToPairs(up.headers), body: up.body, address: up.address };
    },
    classify: (err, url) => client.classify(err, url),
  };
}
