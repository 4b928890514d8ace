/**
 * Builds the Config from flags, LARDER_* environment variables and the YAML file, in that precedence.
 * Every error names the key and what was expected, and is thrown as a ConfigError (the CLI prints it
 * and exits 2).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { OPTIONS, OPTION_BY_KEY, defaultCacheDir, defaultConfigDir, type OptionSpec } from './options.js';
import { parseDuration, parseSize } from './units.js';
import { ConfigError } from '../errors.js';
import { parsePortRanges } from '../net/ports.js';

/** One refresh rule (see cache/rules). Written in the config file under `rules:`. */
export const RefreshRuleSchema = z.object({
  name: z.string().min(1),
  /** regular expression (default) or glob ("glob:" prefix, or `glob: true`) matched against the absolute URL */
  pattern: z.string().min(1),
  glob: z.boolean().optional(),
  /** heuristic freshness bounds and fraction of the Last-Modified age */
  min: z.union([z.string(), z.number()]).optional(),
  percent: z.number().min(0).max(1000).optional(),
  max: z.union([z.string(), z.number()]).optional(),
  immutable: z.boolean().optional(),
  /** allow offline grace even for must-revalidate / no-cache responses */
  offlineOverride: z.boolean().optional(),
}).strict();
export type RefreshRuleInput = z.infer<typeof RefreshRuleSchema>;

export interface Config {
  port: number;
  host: string;
  config?: string;
  fastPath: boolean;
  shutdownTimeout: number;
  /** undefined: one per available CPU (resolved by the CLI) */
  workers?: number;
  workerMode: 'cluster' | 'reuseport';
  upstream?: string;
  upstreamHost?: string;
  forward: boolean;
  via: string;
  xForwardedFor: boolean;
  stripRequestHeaders: string[];
  connectTimeout: number;
  upstreamTimeout: number;
  idleTimeout: number;
  upstreamConnections: number;
  upstreamCa?: string;
  cache: boolean;
  memorySize: number;
  maxObjectSize: number;
  maxVariants: number;
  shareSetCookie: boolean;
  keyIgnoreQuery: string[];
  heuristicFraction: number;
  heuristicMax: number;
  collapseTimeout: number;
  preset: string[];
  rules: RefreshRuleInput[];
  offlineGrace: number;
  cdnCacheControlName: string[];
  cdnCacheControlForward: boolean;
  fillAbortMin: number;
  fillAbortMax: number;
  fillAbortPercent: number;
  disk: boolean;
  cacheDir: string;
  cacheSize: number;
  eviction: 'lru' | 'gdsf';
  connectPorts: string[];
  intercept: boolean;
  interceptHosts: string[];
  interceptSkip: string[];
  caDir: string;
  logFormat: 'json' | 'squid' | 'combined';
  accessLog: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  adminPort: number;
  adminHost: string;
  adminToken?: string;
  summary: boolean;
  allow: string[];
  allowAll: boolean;
  authFile?: string;
  authRealm: string;
  purgeAllow: string[];
  denyHosts: string[];
  denyCidrs: string[];
  allowLocalhostDestinations: boolean;
  maxHeaderSize: number;
  maxUrlLength: number;
  maxHeaders: number;
  headersTimeout: number;
  keepAliveTimeout: number;
  maxConnections: number;
  maxConnectionsPerClient: number;
  maxRequestBody: number;
  maxResponseHeaders: number;
}

export function camelToKebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
export function camelToEnv(key: string): string {
  return `LARDER_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** Coerce one raw value (string from a flag/env, or any YAML value) to the option's type. */
export function coerce(spec: OptionSpec, raw: unknown, where: string): unknown {
  const fail = (expected: string): never => {
    throw new ConfigError(`${where}: expected ${expected}, got ${JSON.stringify(raw)}`);
  };
  switch (spec.type) {
    case 'string':
      if (typeof raw === 'string' || typeof raw === 'number') return String(raw);
      return fail('a string');
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isInteger(n) || n < 0) fail('a non-negative integer');
      return n;
    }
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string') {
        const v = raw.toLowerCase();
        if (['1', 'true', 'yes', 'on'].includes(v)) return true;
        if (['0', 'false', 'no', 'off'].includes(v)) return false;
      }
      return fail('true or false');
    case 'duration': {
      const ms = typeof raw === 'string' || typeof raw === 'number' ? parseDuration(raw) : undefined;
      return ms === undefined ? fail('a duration such as 30s, 5m, 250ms or 7d') : ms;
    }
    case 'size': {
      const n = typeof raw === 'string' || typeof raw === 'number' ? parseSize(raw) : undefined;
      return n === undefined ? fail('a size such as 256MB, 10GiB or 4096') : n;
    }
    case 'list':
      if (Array.isArray(raw)) return raw.map(String).map((s) => s.trim()).filter((s) => s.length > 0);
      if (typeof raw === 'string' || typeof raw === 'number') return String(raw).split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      return fail('a comma-separated list');
    case 'enum':
      if (typeof raw === 'string' && spec.choices!.includes(raw)) return raw;
      return fail(`one of ${spec.choices!.join(', ')}`);
    case 'json':
      if (typeof raw === 'string') {
        try { return JSON.parse(raw); } catch { return fail('JSON'); }
      }
      return raw;
  }
}

export interface ParsedArgs {
  values: Record<string, unknown>;
  positionals: string[];
  help: boolean;
  version: boolean;
}

/** Parse command-line flags against the option table. Unknown flags are errors. */
export function parseFlags(argv: readonly string[]): ParsedArgs {
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  let help = false;
  let version = false;
  const byFlag = new Map<string, OptionSpec>();
  for (const s of OPTIONS) {
    byFlag.set(camelToKebab(s.key), s);
    if (s.short) byFlag.set(s.short, s);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (arg === '--help' || arg === '-h') { help = true; continue; }
    if (arg === '--version' || arg === '-V') { version = true; continue; }
    if (!arg.startsWith('-') || arg === '-') { positionals.push(arg); continue; }
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(arg)!;
    let name = m[1]!;
    let inline = m[2];
    let spec = byFlag.get(name);
    let negated = false;
    if (!spec && name.startsWith('no-')) {
      const s = byFlag.get(name.slice(3));
      if (s && s.type === 'bool') { spec = s; negated = true; name = name.slice(3); }
    }
    if (!spec || spec.fileOnly) throw new ConfigError(`unknown option ${arg.split('=')[0]} (see larder --help)`);
    const where = `--${camelToKebab(spec.key)}`;
    if (spec.type === 'bool') {
      if (negated) { values[spec.key] = false; continue; }
      values[spec.key] = inline === undefined ? true : coerce(spec, inline, where);
      continue;
    }
    if (inline === undefined) {
      inline = argv[++i];
      if (inline === undefined) throw new ConfigError(`${where}: missing value`);
    }
    values[spec.key] = coerce(spec, inline, where);
  }
  return { values, positionals, help, version };
}

/** Values from LARDER_* variables. */
export function readEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    const name = camelToEnv(spec.key);
    const raw = env[name];
    if (raw !== undefined && raw !== '') values[spec.key] = coerce(spec, raw, name);
  }
  return values;
}

/** Values from the YAML file; keys may be camelCase or kebab-case. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`config file ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${path}: invalid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`config file ${path}: expected a mapping of option: value`);
  const values: Record<string, unknown> = {};
  for (const [rawKey, raw] of Object.entries(doc as Record<string, unknown>)) {
    const key = rawKey.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const spec = OPTION_BY_KEY.get(key);
    if (!spec || key === 'config') throw new ConfigError(`config file ${path}: unknown key "${rawKey}"`);
    values[key] = coerce(spec, raw, `config file ${path}: ${rawKey}`);
  }
  return values;
}

function defaults(): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    values[spec.key] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
  }
  values.cacheDir = defaultCacheDir();
  values.caDir = defaultConfigDir();
  return values;
}

/** Checks that span several keys or need more than a type. */
function validate(c: Config): void {
  if (c.port > 65535) throw new ConfigError(`port: expected 0..65535, got ${c.port}`);
  if (c.workers !== undefined && (c.workers < 1 || c.workers > 1024)) throw new ConfigError(`workers: expected 1..1024, got ${c.workers}`);
  if (c.adminPort > 65535) throw new ConfigError(`adminPort: expected 0..65535, got ${c.adminPort}`);
  if (c.upstream !== undefined) {
    let u: URL;
    try { u = new URL(c.upstream); } catch { throw new ConfigError(`upstream: expected an http:// or https:// URL, got ${JSON.stringify(c.upstream)}`); }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`upstream: expected an http:// or https:// URL, got ${JSON.stringify(c.upstream)}`);
  }
  parsePortRanges(c.connectPorts, 'connectPorts');
  const rules = z.array(RefreshRuleSchema).safeParse(c.rules);
  if (!rules.success) {
    const issue = rules.error.issues[0]!;
    throw new ConfigError(`rules.${issue.path.join('.')}: ${issue.message}`);
  }
  c.rules = rules.data;
  if (c.fillAbortPercent > 100) throw new ConfigError(`fillAbortPercent: expected 0..100 (percent), got ${c.fillAbortPercent}`);
  if (c.heuristicFraction > 100) throw new ConfigError(`heuristicFraction: expected 0..100 (percent), got ${c.heuristicFraction}`);
}

export interface LoadedConfig {
  config: Config;
  positionals: string[];
  help: boolean;
  version: boolean;
}

/** flags > LARDER_* environment > YAML file > defaults */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const flags = parseFlags(argv);
  const fromEnv = readEnv(env);
  const file = (flags.values.config ?? fromEnv.config) as string | undefined;
  const fromFile = file ? readConfigFile(file) : {};
  const merged = { ...defaults(), ...fromFile, ...fromEnv, ...flags.values } as unknown as Config;
  if (file) merged.config = file;
  validate(merged);
  return { config: merged, positionals: flags.positionals, help: flags.help, version: flags.version };
}

/** Config for tests and embedding: defaults plus overrides, validated. */
export function makeConfig(overrides: Partial<Config> = {}): Config {
  const c = { ...defaults(), ...overrides } as unknown as Config;
  validate(c);
  return c;
}
