#!/usr/bin/env node
/**
 * larder's command line: `larder [options]` runs the proxy; subcommands `ca`, `purge`, `stats`, `warm`.
 * Errors in options or config exit 2 naming the key; other start-up failures exit 1 with a clear reason.
 */
import { loadConfig, camelToKebab, type Config } from './config/load.js';
import { ConfigError } from './errors.js';
import { OPTIONS } from './config/options.js';
import { formatBytes, formatDuration } from './config/units.js';
import { VERSION } from './version.js';
import { availableParallelism } from 'node:os';

/** SO_REUSEPORT for net.Server#listen: Node 22.12+ and 23.1+ */
function reusePortSupported(): boolean {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

const SUBCOMMANDS = ['serve', 'ca', 'purge', 'stats', 'warm', 'help'] as const;

function defaultText(key: string, type: string, value: unknown, text?: string): string {
  if (text) return text;
  if (value === undefined) return '-';
  if (type === 'duration') return formatDuration(value as number);
  if (type === 'size') return formatBytes(value as number);
  if (Array.isArray(value)) return value.length ? value.join(',') : '-';
  return String(value);
}

export function helpText(): string {
  const lines = [
    `larder ${VERSION} — an HTTP caching proxy (forward and reverse, RFC 9111)`,
    '',
    'Usage:',
    '  larder [options]                 run the proxy (default: 127.0.0.1:3128, disk cache in ~/.cache/larder)',
    '  larder ca                        print the interception CA certificate (created if absent)',
    '  larder purge URL | --prefix P    remove a URL (all variants) or every URL under a prefix',
    '  larder stats                     figures from the running proxy, or from the cache directory',
    '  larder warm FILE                 fetch the URLs listed in FILE through the running proxy',
    '',
    'Every option can also be set as LARDER_<NAME> in the environment or as a key in the --config YAML file.',
    'Precedence: flags, then environment, then config file, then defaults.',
  ];
  let group = '';
  for (const o of OPTIONS) {
    if (o.fileOnly) continue;
    if (o.group !== group) { group = o.group; lines.push('', `${group}:`); }
    const flag = o.type === 'bool' ? `--${camelToKebab(o.key)}, --no-${camelToKebab(o.key)}` : `--${camelToKebab(o.key)} ${o.type === 'list' ? 'A,B' : o.type.toUpperCase()}`;
    const short = o.short ? `-${o.short}, ` : '';
    lines.push(`  ${(short + flag).padEnd(44)} ${o.help} [default: ${defaultText(o.key, o.type, o.default, o.defaultText)}]`);
  }
  lines.push('', 'Config file only: rules (refresh rules, see README).', '  --help, -h   this text     --version, -V   print the version');
  return lines.join('\n') + '\n';
}

function usageLines(config: Config, port: number): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const proxy = `http://${hostPart}:${port}`;
  const lines = [`larder ${VERSION} listening on ${proxy}${config.upstream ? ` (reverse proxy for ${config.upstream}${config.forward ? ', forward proxy too' : ''})` : ''}`];
  if (config.forward) {
    lines.push(`  try:  curl -x ${proxy} http://example.com/`, `  or:   export HTTP_PROXY=${proxy} http_proxy=${proxy}`);
  }
  if (config.upstream) lines.push(`  try:  curl ${proxy}/`);
  lines.push(`  cache: ${config.disk ? `${config.cacheDir} (${formatBytes(config.cacheSize)} disk, ${formatBytes(config.memorySize)} memory)` : `memory only (${formatBytes(config.memorySize)})`}`);
  return lines.join('\n') + '\n';
}

async function serve(config: Config): Promise<number> {
  const { openRelayProblem } = await import('./cli/open-relay-check.js');
  const problem = openRelayProblem(config);
  if (problem) {
    process.stderr.write(`larder: ${problem}\n`);
    return 2;
  }
  // ---- workers (--workers N): a cluster worker runs its own loop; the primary supervises them ----
  const cluster = (await import('node:cluster')).default;
  if (cluster.isWorker) {
    const { runWorker } = await import('./server/cluster-worker.js');
    return runWorker(config, async (c, o) => (await import('./app.js')).startLarder(c, o));
  }
  const workers = config.workers ?? availableParallelism();
  if (workers > 1 && config.workerMode === 'reuseport' && !reusePortSupported()) {
    process.stderr.write(`larder: --worker-mode reuseport needs Node >= 22.12 (this is ${process.version}); use --worker-mode cluster\n`);
    return 2;
  }
  const start = async () => {
    if (workers > 1) {
      const { startCluster } = await import('./server/cluster.js');
      return startCluster(config, { workers });
    }
    const { startLarder } = await import('./app.js');
    return startLarder(config);
  };
  // ---- end workers ----
  let larder;
  try {
    larder = await start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') process.stderr.write(`larder: ${config.host}:${config.port} is already in use (another proxy running?); choose another --port\n`);
    else if (e.code === 'EACCES') process.stderr.write(`larder: not allowed to listen on ${config.host}:${config.port}; choose a port above 1023 or run with the needed privileges\n`);
    else if (e.code === 'EADDRNOTAVAIL') process.stderr.write(`larder: ${config.host} is not an address of this machine (--host)\n`);
    else process.stderr.write(`larder: ${e.message}\n`);
    return 1;
  }
  const { installLastResort } = await import('./server/last-resort.js');
  const served = larder;
  installLastResort({
    // in cluster mode the primary serves nothing; each worker installs its own policy and counts there
    log: larder.log, count: (kind) => { if ('metrics' in served) served.metrics.uncaughtError(kind); },
    shutdown: () => larder.close(), graceMs: config.shutdownTimeout,
  });
  process.stderr.write(usageLines(config, larder.port));
  if (larder.adminPort) {
    process.stderr.write(`  admin: http://${config.adminHost}:${larder.adminPort}/ (dashboard, /metrics, /stats)${larder.adminToken ? `  token: ${larder.adminToken}` : ''}\n`);
  }
  let stopSummary: (() => void) | undefined;
  if (config.summary) {
    const { startSummary } = await import('./admin/summary.js');
    stopSummary = 'summary' in larder ? larder.summary(process.stderr) : startSummary(larder.metrics, process.stderr);
  }
  process.on('SIGHUP', () => larder.reopenLogs());
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      stopSummary?.();
      larder.log.info({ signal }, 'shutting down: finishing in-flight requests');
      larder.close().then(() => resolve(0), (err) => { larder.log.error({ err }, 'error during shutdown'); resolve(1); });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

export async function main(argv: string[]): Promise<number> {
  let sub = 'serve' as (typeof SUBCOMMANDS)[number];
  let args = argv;
  if (args[0] && (SUBCOMMANDS as readonly string[]).includes(args[0])) {
    sub = args[0] as typeof sub;
    args = args.slice(1);
  }
  // subcommand-specific flags that are not proxy options
  let prefix: string | undefined;
  const i = args.indexOf('--prefix');
  if (sub === 'purge' && i >= 0) { prefix = args[i + 1]; args = [...args.slice(0, i), ...args.slice(i + 2)]; }

  let loaded;
  try {
    loaded = loadConfig(args);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`larder: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (loaded.help || sub === 'help') { process.stdout.write(helpText()); return 0; }
  if (loaded.version) { process.stdout.write(`larder ${VERSION}\n`); return 0; }
  const { config, positionals } = loaded;
  switch (sub) {
    case 'serve':
      if (positionals.length > 0) { process.stderr.write(`larder: unexpected argument ${positionals[0]} (see larder --help)\n`); return 2; }
      return serve(config);
    case 'ca': {
      const { runCaCommand } = await import('./cli/ca-command.js');
      return runCaCommand(config, process.stdout);
    }
    case 'purge': {
      const { runPurgeCommand } = await import('./cli/admin-client.js');
      return runPurgeCommand(config, prefix !== undefined ? ['--prefix', prefix] : positionals, process.stdout);
    }
    case 'stats': {
      const { runStatsCommand } = await import('./cli/admin-client.js');
      return runStatsCommand(config, process.stdout);
    }
    case 'warm': {
      if (positionals.length !== 1) { process.stderr.write('larder: usage: larder warm FILE [--port P]\n'); return 2; }
      const { runWarm } = await import('./cli/warm.js');
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      return runWarm({ proxy: `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`, file: positionals[0]!, out: process.stdout, isTTY: process.stdout.isTTY });
    }
  }
  return 2;
}

main(process.argv.slice(2)).then((code) => {
  // pipes and files are written synchronously on Linux, so nothing printed is lost by exiting here
  process.exit(code);
}, (err) => {
  process.stderr.write(`larder: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});
