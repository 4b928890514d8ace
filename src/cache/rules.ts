/**
 * Refresh rules: per-URL heuristic freshness for origins that send no explicit freshness, in the spirit
 * of Squid's refresh_pattern. This module only compiles and matches rules; what a rule may and may not
 * change is decided by the cache policy (a rule never overrides no-store, private or explicit
 * max-age/s-maxage/Expires).
 *
 * Heuristic freshness is allowed by RFC 9111 §4.2.2 for responses without explicit expiration:
 * https://www.rfc-editor.org/rfc/rfc9111#section-4.2.2
 */
import type { RefreshRuleInput } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { parseDuration } from '../config/units.js';
import { PRESETS, PRESET_NAMES, type PresetName } from './presets.js';

/** What the cache policy needs from a matched rule. */
export interface RuleParams {
  name: string;
  /** lower bound of heuristic freshness, seconds (also the lifetime when there is no Last-Modified) */
  minSeconds: number;
  /** percent of (Date − Last-Modified) used as heuristic freshness */
  percent: number;
  /** upper bound of heuristic freshness, seconds; the lifetime of an `immutable` match */
  maxSeconds: number;
  /** fresh for maxSeconds, never revalidated (versioned or content-addressed URLs) */
  immutable: boolean;
  /** with offline grace on, may serve stale even for must-revalidate / no-cache responses */
  offlineOverride: boolean;
}

export interface CompiledRule extends RuleParams {
  /** true when the rule's pattern matches the absolute URL */
  test(url: string): boolean;
  /** the pattern as written (regex source, or glob with its "glob:" prefix) */
  source: string;
}

/** Without `percent`, the 10% suggested by RFC 9111 §4.2.2 (and larder's --heuristic-fraction default). */
export const DEFAULT_PERCENT = 10;
/** Without `max`: one day for ordinary rules (larder's --heuristic-max default), one year for immutable ones. */
export const DEFAULT_MAX_SECONDS = 86_400;
export const DEFAULT_IMMUTABLE_MAX_SECONDS = 365 * 86_400;

/** An ordered list of rules; the first whose pattern matches wins, like Squid's refresh_pattern. */
export class RefreshRules {
  readonly rules: readonly CompiledRule[];

  constructor(rules: CompiledRule[]) {
    this.rules = Object.freeze([...rules]);
  }

  /** First rule whose pattern matches the absolute URL, or undefined. */
  match(url: string): RuleParams | undefined {
    for (const rule of this.rules) {
      if (rule.test(url)) return rule;
    }
    return undefined;
  }
}

/**
 * Glob to an anchored regular expression over the whole URL:
 * `**` matches anything (slashes included), `*` anything but `/`, `?` one character but `/`.
 * Every other character is literal.
 */
export function globToRegExp(glob: string): RegExp {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        while (glob[i + 1] === '*') i++;
        out += '.*';
      } else {
        out += '[^/]*';
      }
    } else if (c === '?') {
      out += '[^/]';
    } else {
      out += c.replace(/[\\^$.|+()[\]{}\/-]/g, '\\$&');
    }
  }
  return new RegExp(`${out}$`);
}

/** Seconds from a rule's `min`/`max` ('1h', '30s', or a bare number of seconds). */
function seconds(value: string | number | undefined, fallback: number, where: string): number {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === undefined) throw new ConfigError(`${where}: expected a duration such as 30s, 5m, 1h or 365d, got ${JSON.stringify(value)}`);
  return ms / 1000;
}

/** A matcher from the rule's pattern: a glob ("glob:" prefix or `glob: true`) or a regular expression. */
function compilePattern(input: RefreshRuleInput, where: string): RegExp {
  const raw = input.pattern;
  if (typeof raw !== 'string' || raw.length === 0) throw new ConfigError(`${where}.pattern: expected a regular expression or glob:…, got ${JSON.stringify(raw)}`);
  const prefixed = raw.startsWith('glob:');
  if (input.glob === true || (prefixed && input.glob !== false)) {
    return globToRegExp(prefixed ? raw.slice('glob:'.length) : raw);
  }
  // JavaScript has no inline flags on Node 20; a leading "(?i)" asks for case-insensitive matching
  // (Squid writes this as `refresh_pattern -i`).
  const insensitive = raw.startsWith('(?i)');
  const source = insensitive ? raw.slice(4) : raw;
  try {
    return new RegExp(source, insensitive ? 'i' : '');
  } catch (err) {
    throw new ConfigError(`${where}.pattern: invalid regular expression ${JSON.stringify(raw)}: ${(err as Error).message}`);
  }
}

/** Compile one rule; `where` names it in errors (e.g. "rules.2"). */
export function compileRule(input: RefreshRuleInput, where: string): CompiledRule {
  if (typeof input !== 'object' || input === null) throw new ConfigError(`${where}: expected a rule { name, pattern, … }`);
  if (typeof input.name !== 'string' || input.name.length === 0) throw new ConfigError(`${where}.name: expected a non-empty string`);
  const regex = compilePattern(input, where);
  const immutable = input.immutable === true;
  const minSeconds = seconds(input.min, 0, `${where}.min`);
  const maxSeconds = seconds(input.max, immutable ? DEFAULT_IMMUTABLE_MAX_SECONDS : Math.max(DEFAULT_MAX_SECONDS, minSeconds), `${where}.max`);
  if (minSeconds > maxSeconds) throw new ConfigError(`${where}.min: ${minSeconds}s is greater than max (${maxSeconds}s)`);
  const percent = input.percent ?? DEFAULT_PERCENT;
  if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0) throw new ConfigError(`${where}.percent: expected a number >= 0, got ${JSON.stringify(percent)}`);
  return Object.freeze({
    name: input.name,
    minSeconds,
    percent,
    maxSeconds,
    immutable,
    offlineOverride: input.offlineOverride === true,
    source: input.pattern,
    test: (url: string) => regex.test(url),
  });
}

function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

/**
 * Build the rule list from the config: preset rules first (in the order named, each preset once), then
 * the config file's `rules:`. Errors name the key: `preset`, `rules.N.pattern`, `rules.N.min`, …
 */
export function compileRules(presets: string[], rules: RefreshRuleInput[]): RefreshRules {
  const compiled: CompiledRule[] = [];
  const seen = new Set<string>();
  for (const raw of presets) {
    const name = raw.trim().toLowerCase();
    if (!isPresetName(name)) {
      throw new ConfigError(`preset: unknown preset ${JSON.stringify(raw)} (known: ${PRESET_NAMES.join(', ')})`);
    }
    if (seen.has(name)) continue;
    seen.add(name);
    PRESETS[name].forEach((rule, i) => compiled.push(compileRule(rule, `preset.${name}.${i}`)));
  }
  rules.forEach((rule, i) => compiled.push(compileRule(rule, `rules.${i}`)));
  return new RefreshRules(compiled);
}
