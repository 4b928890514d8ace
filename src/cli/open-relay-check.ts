/**
 * larder refuses to start as an open relay by accident: a proxy that listens beyond loopback and lets
 * anyone through gets found and abused within hours (spam, attacks laundered through your address).
 * Listening on a non-loopback address therefore needs client rules (`allow`), proxy authentication
 * (`authFile`), or an explicit `allowAll`.
 */
import type { Config } from '../config/load.js';
import { camelToKebab } from '../config/load.js';
import { isLoopbackHost } from '../server/access.js';

/** An error message naming the flags to use, or undefined when the configuration is fine. */
export function openRelayProblem(config: Config): string | undefined {
  if (isLoopbackHost(config.host)) return undefined;
  if (config.allowAll || config.allow.length > 0 || (config.authFile !== undefined && config.authFile !== '')) return undefined;
  const flag = (key: string): string => `--${camelToKebab(key)}`;
  const where = config.host === '' ? 'all interfaces' : config.host.includes(':') ? `[${config.host}]:${config.port}` : `${config.host}:${config.port}`;
  return `refusing to listen on ${where} as an open proxy: anyone who can reach it could use it. ` +
    `Name the clients allowed with ${flag('allow')} 10.0.0.0/8,192.168.0.0/16, ` +
    `require proxy authentication with ${flag('authFile')} <htpasswd file>, ` +
    `or pass ${flag('allowAll')} if an open proxy is really what you want.`;
}
