/** The cache engine's way to the origin: the upstream client, with the response fields as end-to-end pairs. */
import type { UpstreamPort } from '../cache/request.js';
import type { UpstreamClient } from '../upstream/client.js';
import { objectToPairs } from './headers.js';

function ignore(): void {}

export function upstreamPort(client: UpstreamClient): UpstreamPort {
  return {
    async request(req) {
      const up = await client.request(req);
      // destroying an unread body (client gone, fill abandoned) emits 'error' (RequestAbortedError): never
      // uncaught. Readers still see every error: an async iterator and pipeline listen for it themselves.
      up.body.on('error', ignore);
      return { status: up.status, headers: up.headers, pairs: objectToPairs(up.headers), body: up.body, address: up.address };
    },
    classify: (err, url) => client.classify(err, url),
  };
}
