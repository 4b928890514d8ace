import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { compileRule, compileRules, globToRegExp, RefreshRules, DEFAULT_IMMUTABLE_MAX_SECONDS } from '../../src/cache/rules.js';

test('the first matching rule wins, in the order given (like refresh_pattern)', () => {
  const rules = compileRules([], [
    { name: 'isos', pattern: '\\.iso$', min: '1h', max: '1d' },
    { name: 'everything', pattern: '.', min: 0, max: 60 },
    { name: 'never-reached', pattern: '\\.iso$', immutable: true },
  ]);
  assert.equal(rules.match('http://mirror.example/debian-12.iso')?.name, 'isos');
  assert.equal(rules.match('http://mirror.example/index.html')?.name, 'everything');
  assert.equal(rules.rules.length, 3);
  assert.deepEqual(rules.rules.map((r) => r.name), ['isos', 'everything', 'never-reached']);
});

test('no rule matches → undefined', () => {
  const rules = compileRules([], [{ name: 'debs', pattern: '\\.deb$' }]);
  assert.equal(rules.match('http://example.com/a.rpm'), undefined);
  assert.equal(new RefreshRules([]).match('http://example.com/'), undefined);
});

test('durations: strings with units and bare seconds; defaults', () => {
  const r = compileRule({ name: 'x', pattern: 'x', min: '30s', max: '2h', percent: 20, offlineOverride: true }, 'rules.0');
  assert.equal(r.minSeconds, 30);
  assert.equal(r.maxSeconds, 7200);
  assert.equal(r.percent, 20);
  assert.equal(r.immutable, false);
  assert.equal(r.offlineOverride, true);
  const bare = compileRule({ name: 'y', pattern: 'y', min: 90, max: 600 }, 'rules.1');
  assert.equal(bare.minSeconds, 90);
  assert.equal(bare.maxSeconds, 600);
  const defaults = compileRule({ name: 'z', pattern: 'z' }, 'rules.2');
  assert.deepEqual([defaults.minSeconds, defaults.percent, defaults.maxSeconds, defaults.offlineOverride], [0, 10, 86_400, false]);
  const imm = compileRule({ name: 'i', pattern: 'i', immutable: true }, 'rules.3');
  assert.equal(imm.immutable, true);
  assert.equal(imm.maxSeconds, DEFAULT_IMMUTABLE_MAX_SECONDS);
  // a min above the default max raises the default max with it instead of failing
  assert.equal(compileRule({ name: 'm', pattern: 'm', min: '2d' }, 'rules.4').maxSeconds, 172_800);
});

test('regex patterns search anywhere in the URL; "(?i)" makes them case-insensitive', () => {
  const rules = compileRules([], [
    { name: 'ci', pattern: '(?i)\\.ISO$' },
    { name: 'cs', pattern: '/Packages$' },
  ]);
  assert.equal(rules.match('http://h/debian.iso')?.name, 'ci');
  assert.equal(rules.match('http://h/dists/x/Packages')?.name, 'cs');
  assert.equal(rules.match('http://h/dists/x/packages'), undefined);
});

test('globs: "glob:" prefix or glob: true; * stays in a segment, ** crosses, ? is one character', () => {
  const rules = compileRules([], [
    { name: 'one-level', pattern: 'glob:http://h/files/*.tgz' },
    { name: 'deep', pattern: 'http://*/mirror/**.deb', glob: true },
    { name: 'q', pattern: 'glob:http://h/v?/x' },
  ]);
  assert.equal(rules.match('http://h/files/a.tgz')?.name, 'one-level');
  assert.equal(rules.match('http://h/files/sub/a.tgz'), undefined, '* must not cross /');
  assert.equal(rules.match('http://deb.example/mirror/pool/main/h/hello.deb')?.name, 'deep');
  assert.equal(rules.match('https://deb.example/mirror/a.deb'), undefined, 'glob is anchored: http:// only');
  assert.equal(rules.match('http://h/v2/x')?.name, 'q');
  assert.equal(rules.match('http://h/v22/x'), undefined);
  assert.equal(rules.match('http://h/v//x'), undefined, '? must not match /');
  // regex metacharacters in a glob are literal
  assert.equal(globToRegExp('http://h/a.b+(c)').test('http://h/a.b+(c)'), true);
  assert.equal(globToRegExp('http://h/a.b').test('http://h/aXb'), false);
  // a "glob:" prefix with glob: false is taken as a regex, prefix included
  const literal = compileRule({ name: 'l', pattern: 'glob:x', glob: false }, 'rules.0');
  assert.equal(literal.test('http://h/glob:x'), true);
  assert.equal(literal.test('http://h/x'), false);
});

test('a bad regex is a ConfigError naming rules.N.pattern', () => {
  assert.throws(
    () => compileRules([], [{ name: 'ok', pattern: 'a' }, { name: 'bad', pattern: '([unclosed' }]),
    (err: unknown) => err instanceof ConfigError && /^rules\.1\.pattern: invalid regular expression/.test(err.message) && err.code === 'LARDER_ERR_CONFIG',
  );
});

test('a bad duration or min > max is a ConfigError naming the key', () => {
  assert.throws(() => compileRules([], [{ name: 'a', pattern: 'a', min: 'soon' }]), (e: unknown) => e instanceof ConfigError && e.message.startsWith('rules.0.min:'));
  assert.throws(() => compileRules([], [{ name: 'a', pattern: 'a' }, { name: 'b', pattern: 'b', max: '1 fortnight' }]), (e: unknown) => e instanceof ConfigError && e.message.startsWith('rules.1.max:'));
  assert.throws(() => compileRules([], [{ name: 'a', pattern: 'a', min: '2h', max: '1h' }]), (e: unknown) => e instanceof ConfigError && /^rules\.0\.min: 7200s is greater than max \(3600s\)/.test(e.message));
});

test('an unknown preset is a ConfigError naming preset and listing the known ones', () => {
  assert.throws(
    () => compileRules(['debian', 'cpan'], []),
    (err: unknown) => err instanceof ConfigError && err.message === 'preset: unknown preset "cpan" (known: debian, npm, pypi, oci)',
  );
});

test('preset rules come first, in the order named, each preset once; config rules follow', () => {
  const rules = compileRules(['oci', ' Debian ', 'oci'], [{ name: 'mine', pattern: '\\.deb$', min: 1, max: 1 }]);
  const names = rules.rules.map((r) => r.name);
  assert.equal(names[0], 'oci-blob');
  assert.ok(names.indexOf('oci-manifest-tag') < names.indexOf('debian-pool'));
  assert.equal(names.filter((n) => n === 'oci-blob').length, 1, 'a preset named twice is compiled once');
  assert.equal(names.at(-1), 'mine');
  // the preset's immutable rule shadows the later config rule for pool files …
  assert.equal(rules.match('http://deb.debian.org/debian/pool/main/h/hello/hello_2.10-3_amd64.deb')?.name, 'debian-pool');
  // … and the config rule still applies to other .deb URLs
  assert.equal(rules.match('http://example.com/downloads/tool.deb')?.name, 'mine');
});

test('works on a validated Config (makeConfig) end to end', () => {
  const config = makeConfig({ preset: ['npm'], rules: [{ name: 'isos', pattern: 'glob:**.iso', max: '7d' }] });
  const rules = compileRules(config.preset, config.rules);
  assert.equal(rules.match('https://registry.npmjs.org/express/-/express-4.21.0.tgz')?.immutable, true);
  assert.equal(rules.match('http://cdimage.example/debian-12.iso')?.maxSeconds, 7 * 86_400);
});

test('compiled rules are frozen: a match result cannot be changed by a caller', () => {
  const rules = compileRules([], [{ name: 'a', pattern: 'a', max: 10 }]);
  const m = rules.match('http://a/') as { maxSeconds: number };
  assert.throws(() => { m.maxSeconds = 99; }, TypeError);
  assert.equal(rules.match('http://a/')?.maxSeconds, 10);
});
