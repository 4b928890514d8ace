/**
 * larder refuses to start as an open relay by accident: a proxy that listens beyond loopback and lets
 * anyone through gets found and abused within hours (spam, attacks laundered through your address).
 * Listening on a non-loopback address therefore needs client rules (`allow`), proxy authentication
 * (`authFile`), or an explicit `allowAll`.
 *
 * `allowAll` on a reverse proxy means "anyone may reach my site", not "anyone may reach the world": with
 * the default `forward: true` it would also be an open forward proxy. That combination refuses to start
 * until forwarding is turned off (`--no-forward`), as Squid's accel mode and nginx never relay by default.
 * Someone who really wants both names the clients with `--allow 0.0.0.0/0,::/0`.
 */
import type { Config } from '../config/load.js';
import { camelToKebab } from '../config/load.js';
import { isLoopbackHost } from '../net/host.js';

/** An error message naming the flags to use, or undefined when the configuration is fine. */
export function openRelayProblem(config: Config): string | undefined {
  if (isLoopbackHost(config.host)) return undefined;
  const flag = (key: string): string => `--${camelToKebab(key)}`;
  const where = config.host === '' ? 'all interfaces' : config.host.includes(':') ? `[${config.host}]:${config.port}` : `${config.host}:${config.port}`;
  if (config.allowAll && config.upstream && config.forward) {
    return `refusing to listen on ${where} as a reverse proxy that is also an open forward proxy: ` +
      `${flag('allowAll')} with ${flag('upstream')} lets anyone relay through larder to any host, because forward proxying is on by default (forward: true). ` +
      `Pass --no-forward (forward: false) to serve only ${config.upstream}, ` +
      `or name the forward clients with ${flag('allow')} instead of ${flag('allowAll')}.`;
  }
  if (config.allowAll || config.allow.length > 0 || (config.authFile !== undefined && config.authFile !== '')) return undefined;
  return `refusing to listen on ${where} as an open proxy: anyone who can reach it could use it. ` +
    `Name the clients allowed with ${flag('allow')} 10.0.0.0/8,192.168.0.0/16, ` +
    `require proxy authentication with ${flag('authFile')} <htpasswd file>, ` +
    `or pass ${flag('allowAll')} if an open proxy is really what you want.`;
}
