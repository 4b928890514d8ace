/**
 * The one table of larder's options. Flags, LARDER_* environment variables and the YAML file are all
 * derived from it; defaults live here and nowhere else. `larder --help` and the README table print it.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export type OptionType = 'string' | 'int' | 'bool' | 'duration' | 'size' | 'list' | 'enum' | 'json';

export interface OptionSpec {
  /** key in the Config object and in the YAML file (camelCase) */
  key: string;
  type: OptionType;
  default: unknown;
  help: string;
  /** allowed values for type 'enum' */
  choices?: readonly string[];
  /** shown instead of the default in --help (for computed defaults) */
  defaultText?: string;
  /** group heading in --help */
  group: string;
  /** only settable in the config file (structured values) */
  fileOnly?: boolean;
  /** single-letter alias */
  short?: string;
}

export function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), '.cache'), 'larder');
}

export function defaultConfigDir(): string {
  const xdg = process.env.XDG_CONFIG_HOME;
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), '.config'), 'larder');
}

const o = (spec: OptionSpec): OptionSpec => spec;

export const OPTIONS: readonly OptionSpec[] = [
  // listener
  o({ group: 'Listener', key: 'port', type: 'int', default: 3128, help: 'proxy port', short: 'p' }),
  o({ group: 'Listener', key: 'host', type: 'string', default: '127.0.0.1', help: 'address to listen on' }),
  o({ group: 'Listener', key: 'config', type: 'string', default: undefined, help: 'YAML config file', short: 'c' }),
  o({ group: 'Listener', key: 'fastPath', type: 'bool', default: true, help: 'answer plain GET/HEAD hits on a fast path in front of node:http (--no-fast-path: everything through node:http)' }),
  o({ group: 'Listener', key: 'shutdownTimeout', type: 'duration', default: 10_000, help: 'how long in-flight requests may run after SIGTERM' }),
  o({ group: 'Listener', key: 'workers', type: 'int', default: undefined, defaultText: 'available CPUs', help: 'processes serving the port (1 = one process, no cluster)' }),
  o({ group: 'Listener', key: 'workerMode', type: 'enum', default: 'cluster', choices: ['cluster', 'reuseport'], help: 'how workers share the port: cluster (the primary accepts, round-robin) or reuseport (the kernel spreads connections; Node >= 22.12)' }),
  // routing
  o({ group: 'Routing', key: 'upstream', type: 'string', default: undefined, help: 'reverse proxy: origin for origin-form requests (http://host:port)' }),
  o({ group: 'Routing', key: 'upstreamHost', type: 'string', default: undefined, help: 'reverse proxy: Host header sent to the origin (default: the client\'s)' }),
  o({ group: 'Routing', key: 'forward', type: 'bool', default: true, help: 'accept absolute-form (forward proxy) requests' }),
  o({ group: 'Routing', key: 'via', type: 'string', default: 'larder', help: 'pseudonym in Via and Cache-Status' }),
  o({ group: 'Routing', key: 'xForwardedFor', type: 'bool', default: false, help: 'append the client address to X-Forwarded-For (off: a client\'s own X-Forwarded-For is removed)' }),
  o({ group: 'Routing', key: 'stripRequestHeaders', type: 'list', default: ['forwarded', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-scheme', 'x-forwarded-port', 'x-forwarded-prefix', 'x-original-host', 'x-original-url', 'x-rewrite-url', 'x-forwarded-server', 'x-http-method-override', 'x-host'], help: 'request fields removed before forwarding (reflected-header cache poisoning)' }),
  // upstream
  o({ group: 'Upstream', key: 'connectTimeout', type: 'duration', default: 10_000, help: 'upstream connect timeout' }),
  o({ group: 'Upstream', key: 'upstreamTimeout', type: 'duration', default: 60_000, help: 'time to the upstream response head' }),
  o({ group: 'Upstream', key: 'idleTimeout', type: 'duration', default: 60_000, help: 'no bytes on an open body (either direction)' }),
  o({ group: 'Upstream', key: 'upstreamConnections', type: 'int', default: 256, help: 'max pooled connections per origin' }),
  o({ group: 'Upstream', key: 'upstreamCa', type: 'string', default: undefined, help: 'extra CA file (PEM) trusted for upstream TLS' }),
  // cache
  o({ group: 'Cache', key: 'cache', type: 'bool', default: true, help: 'cache responses (--no-cache forwards everything)' }),
  o({ group: 'Cache', key: 'memorySize', type: 'size', default: 256_000_000, help: 'memory tier byte budget' }),
  o({ group: 'Cache', key: 'maxObjectSize', type: 'size', default: 64_000_000, help: 'largest response stored; larger ones stream through' }),
  o({ group: 'Cache', key: 'maxVariants', type: 'int', default: 16, help: 'stored variants (Vary) per URL' }),
  o({ group: 'Cache', key: 'shareSetCookie', type: 'bool', default: false, help: 'serve stored responses carrying Set-Cookie to other clients (RFC 9111 behaviour)' }),
  o({ group: 'Cache', key: 'keyIgnoreQuery', type: 'list', default: [], help: 'query parameters left out of the cache key' }),
  o({ group: 'Cache', key: 'heuristicFraction', type: 'int', default: 10, help: 'heuristic freshness, percent of the Last-Modified age' }),
  o({ group: 'Cache', key: 'heuristicMax', type: 'duration', default: 86_400_000, help: 'upper bound of heuristic freshness' }),
  o({ group: 'Cache', key: 'collapseTimeout', type: 'duration', default: 30_000, help: 'how long a collapsed request waits for the leader' }),
  o({ group: 'Cache', key: 'preset', type: 'list', default: [], help: 'refresh rule presets: debian, npm, pypi, oci' }),
  o({ group: 'Cache', key: 'rules', type: 'json', default: [], help: 'refresh rules (config file)', fileOnly: true }),
  o({ group: 'Cache', key: 'cdnCacheControlName', type: 'list', default: ['CDN-Cache-Control'], help: 'targeted cache-control fields obeyed before Cache-Control, first valid wins (RFC 9213); names other than CDN-Cache-Control are removed downstream' }),
  o({ group: 'Cache', key: 'cdnCacheControlForward', type: 'bool', default: false, help: 'obey the targeted fields in forward mode too (default: reverse mode only, where larder is the CDN)' }),
  o({ group: 'Cache', key: 'offlineGrace', type: 'duration', default: 86_400_000, help: 'serve a stored response up to this long past its freshness when the origin cannot be reached (0 = off)' }),
  o({ group: 'Cache', key: 'fillAbortMin', type: 'size', default: 16_384, help: 'a fill whose client left is finished when less than this remains' }),
  o({ group: 'Cache', key: 'fillAbortMax', type: 'size', default: 16_384, help: 'a fill whose client left is abandoned when more than this remains' }),
  o({ group: 'Cache', key: 'fillAbortPercent', type: 'int', default: 95, help: 'otherwise finished when at least this percent arrived' }),
  // store
  o({ group: 'Store', key: 'disk', type: 'bool', default: true, help: 'embedded disk store (--no-disk: memory only)' }),
  o({ group: 'Store', key: 'cacheDir', type: 'string', default: undefined, defaultText: '$XDG_CACHE_HOME/larder or ~/.cache/larder', help: 'disk store directory' }),
  o({ group: 'Store', key: 'cacheSize', type: 'size', default: 1_000_000_000, help: 'disk store byte budget' }),
  o({ group: 'Store', key: 'eviction', type: 'enum', default: 'lru', choices: ['lru', 'gdsf'], help: 'eviction policy' }),
  // https
  o({ group: 'HTTPS', key: 'connectPorts', type: 'list', default: ['443'], help: 'ports allowed for CONNECT' }),
  o({ group: 'HTTPS', key: 'intercept', type: 'bool', default: false, help: 'terminate TLS with larder\'s CA and cache HTTPS' }),
  o({ group: 'HTTPS', key: 'interceptHosts', type: 'list', default: [], help: 'intercept only these host patterns (empty = all)' }),
  o({ group: 'HTTPS', key: 'interceptSkip', type: 'list', default: [], help: 'host patterns tunnelled blindly even with --intercept' }),
  o({ group: 'HTTPS', key: 'caDir', type: 'string', default: undefined, defaultText: '$XDG_CONFIG_HOME/larder or ~/.config/larder', help: 'where the interception CA lives' }),
  // observability
  o({ group: 'Observability', key: 'logFormat', type: 'enum', default: 'json', choices: ['json', 'squid', 'combined'], help: 'access log format' }),
  o({ group: 'Observability', key: 'accessLog', type: 'string', default: '-', help: 'access log file (- = stdout, off = none)' }),
  o({ group: 'Observability', key: 'logLevel', type: 'enum', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], help: 'diagnostics level (stderr)' }),
  o({ group: 'Observability', key: 'adminPort', type: 'int', default: 3129, help: 'admin listener port (0 = off)' }),
  o({ group: 'Observability', key: 'adminHost', type: 'string', default: '127.0.0.1', help: 'admin listener address' }),
  o({ group: 'Observability', key: 'adminToken', type: 'string', default: undefined, help: 'admin API token (generated when the admin listener is not on loopback)' }),
  o({ group: 'Observability', key: 'summary', type: 'bool', default: false, help: 'print a one-line summary every few seconds' }),
  // safety
  o({ group: 'Safety', key: 'allow', type: 'list', default: [], help: 'client CIDRs allowed (default: loopback only)' }),
  o({ group: 'Safety', key: 'allowAll', type: 'bool', default: false, help: 'allow any client (open proxy: only if you mean it)' }),
  o({ group: 'Safety', key: 'authFile', type: 'string', default: undefined, help: 'htpasswd file for proxy authentication (bcrypt, SHA-crypt, scrypt)' }),
  o({ group: 'Safety', key: 'authRealm', type: 'string', default: 'larder', help: 'realm in Proxy-Authenticate' }),
  o({ group: 'Safety', key: 'purgeAllow', type: 'list', default: ['127.0.0.0/8', '::1/128'], help: 'client CIDRs allowed to send PURGE' }),
  o({ group: 'Safety', key: 'denyHosts', type: 'list', default: [], help: 'destination host patterns refused' }),
  o({ group: 'Safety', key: 'denyCidrs', type: 'list', default: ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128', '100.100.100.200/32', '192.0.0.192/32'], help: 'destination addresses refused after DNS resolution (link-local and cloud metadata)' }),
  o({ group: 'Safety', key: 'allowLocalhostDestinations', type: 'bool', default: false, help: 'let clients not on loopback reach the proxy host\'s loopback (127.0.0.0/8, ::1, localhost)' }),
  o({ group: 'Safety', key: 'maxHeaderSize', type: 'size', default: 65_536, help: 'request line + header bytes (431 beyond)' }),
  o({ group: 'Safety', key: 'maxUrlLength', type: 'size', default: 16_384, help: 'request target length (414 beyond)' }),
  o({ group: 'Safety', key: 'maxHeaders', type: 'int', default: 100, help: 'request header fields (431 beyond)' }),
  o({ group: 'Safety', key: 'headersTimeout', type: 'duration', default: 20_000, help: 'time to receive a request head (slowloris)' }),
  o({ group: 'Safety', key: 'keepAliveTimeout', type: 'duration', default: 15_000, help: 'idle client keep-alive' }),
  o({ group: 'Safety', key: 'maxConnections', type: 'int', default: 10_000, help: 'client connections in total' }),
  o({ group: 'Safety', key: 'maxConnectionsPerClient', type: 'int', default: 2_500, help: 'client connections per address' }),
  o({ group: 'Safety', key: 'maxRequestBody', type: 'size', default: 0, help: 'request body bytes (413 beyond, 0 = unlimited)' }),
  o({ group: 'Safety', key: 'maxResponseHeaders', type: 'int', default: 200, help: 'upstream response header fields (502 beyond)' }),
];

export const OPTION_BY_KEY = new Map(OPTIONS.map((s) => [s.key, s]));
