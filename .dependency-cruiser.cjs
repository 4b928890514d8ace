// The layering of src/, checked by dependency-cruiser (`npm run lint`, and CI through it).
// Data flows one way: cli/app -> server -> proxy -> cache -> store, with upstream beside the cache
// (see README "Architecture"). A rule fails the run on a forbidden import, type-only imports included:
// a type import is as much a reach into another layer as a value import.
//
// src/errors.ts, src/net/ and src/http/ are shared leaves: anyone may import them, they import no other layer.
// TypeScript 7 has no JS API that dependency-cruiser can use, so it parses the sources with swc.

/** an import from `from` to any folder in `to` is an error */
const forbid = (name, comment, from, to) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { path: `^src/(${to.join('|')})` },
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    forbid('cache-not-to-io-layers',
      'The cache core knows no socket: it takes a request description and returns a decision (issue 13). '
      + 'Only proxy/ and server/ do socket I/O; upstream results come back as values.',
      '^src/cache/', ['proxy/', 'server/', 'upstream/', 'admin/', 'cli/', 'tls/', 'app\\.ts$', 'cli\\.ts$']),
    forbid('store-not-to-http-layers',
      'A store knows nothing of HTTP semantics: it keeps the cache\'s policy as opaque metadata.',
      '^src/store/', ['cache/', 'proxy/', 'server/', 'upstream/', 'admin/', 'cli/', 'tls/', 'app\\.ts$', 'cli\\.ts$']),
    forbid('upstream-not-to-proxy-or-cache',
      'The upstream client reports failures as typed errors (src/errors.ts); the proxy decides the 502/504 answer.',
      '^src/upstream/', ['proxy/', 'cache/', 'server/', 'store/', 'admin/', 'cli/', 'app\\.ts$', 'cli\\.ts$']),
    {
      name: 'config-is-a-leaf',
      comment: 'config/ declares options and loads them; it imports nothing of the stages that use it.',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: '^src/(config/|errors\\.ts$|net/)' },
    },
    {
      name: 'shared-leaves-import-no-layer',
      comment: 'src/errors.ts (coded errors), src/net/ (addresses, hosts, ports) and src/http/ (HTTP vocabulary: '
        + 'methods, Via, Cache-Status syntax) are imported by every layer, so they import none.',
      severity: 'error',
      from: { path: '^src/(errors\\.ts$|net/|http/)' },
      to: { path: '^src/', pathNot: '^src/(errors\\.ts$|net/|http/)' },
    },
    forbid('log-not-to-stages',
      'log/ formats records that the stages hand it; it does not call back into them.',
      '^src/log/', ['proxy/', 'server/', 'cache/', 'store/', 'upstream/', 'admin/', 'cli/', 'tls/', 'app\\.ts$', 'cli\\.ts$']),
    forbid('tls-not-to-cache-store-admin',
      'tls/ mints and loads certificates; decrypted requests re-enter the router through a callback.',
      '^src/tls/', ['cache/', 'store/', 'admin/', 'cli/', 'app\\.ts$', 'cli\\.ts$']),
    {
      name: 'entry-points-imported-by-cli-only',
      comment: 'app.ts wires the stages together and cli.ts/cli/ parse arguments: no stage imports them.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cli\\.ts$|cli/)' },
      to: { path: '^src/(app\\.ts$|cli\\.ts$|cli/)' },
    },
    {
      name: 'server-not-to-cache',
      comment: 'DESIGN: the listener knows nothing of caching; it formats the Cache-Status of its own refusals '
        + 'with src/http/cache-status.ts. The one exception is the next rule\'s.',
      severity: 'error',
      from: { path: '^src/server/', pathNot: '^src/server/cluster-collapse\\.ts$' },
      to: { path: '^src/cache/' },
    },
    {
      name: 'cluster-collapser-implements-the-engine-port-only',
      comment: 'server/cluster-collapse.ts implements the engine\'s KeyCollapser interface: it may import that '
        + 'contract and its bounded wait (cache/collapse.ts), and nothing else of cache/.',
      severity: 'error',
      from: { path: '^src/server/cluster-collapse\\.ts$' },
      to: { path: '^src/cache/', pathNot: '^src/cache/collapse\\.ts$' },
    },
    {
      name: 'no-circular',
      comment: 'A cycle means two modules are one concern, or one of them reaches back (type-only cycles too: '
        + 'put the shared interface in a module of its own).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-orphans',
      comment: 'A module that nothing imports is dead code (entry points and declaration files excepted).',
      severity: 'error',
      from: { orphan: true, pathNot: ['\\.d\\.ts$', '^src/cli\\.ts$'] },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve fails at run time.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'src-not-to-dev-dependencies',
      comment: 'src/ ships; what it imports must be a dependency, not a devDependency.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'src-not-to-undeclared-packages',
      comment: 'Every package that src/ imports is declared in package.json.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'src-not-to-tests-or-benches',
      comment: 'Shipping code does not import test helpers or benchmarks.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    // the dashboard's browser script is served as a file, not imported
    exclude: { path: '^src/admin/dashboard/' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
