import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PRESETS, PRESET_NAMES } from '../../src/cache/presets.js';
import { compileRules } from '../../src/cache/rules.js';

const all = compileRules([...PRESET_NAMES], []);
const HEX64 = '0123456789abcdef'.repeat(4);

function expectRule(url: string, name: string | undefined, kind?: 'immutable' | 'short'): void {
  const m = all.match(url);
  assert.equal(m?.name, name, url);
  if (kind === 'immutable') {
    assert.equal(m!.immutable, true, `${url} should be immutable`);
    assert.ok(m!.maxSeconds >= 30 * 86_400, `${url}: immutable for a long time`);
  }
  if (kind === 'short') {
    assert.equal(m!.immutable, false, `${url} must not be immutable`);
    assert.ok(m!.maxSeconds > 0 && m!.maxSeconds <= 600, `${url}: short-lived, got ${m!.maxSeconds}s`);
    assert.equal(m!.minSeconds, m!.maxSeconds, `${url}: a fixed lifetime whatever Last-Modified says`);
  }
}

test('debian: pool files are immutable, on any mirror, http and https', () => {
  expectRule('http://deb.debian.org/debian/pool/main/h/hello/hello_2.10-3_amd64.deb', 'debian-pool', 'immutable');
  expectRule('https://deb.debian.org/debian/pool/main/h/hello/hello_2.10-3_amd64.deb', 'debian-pool', 'immutable');
  expectRule('http://archive.ubuntu.com/ubuntu/pool/main/h/hello/hello_2.10-3_amd64.deb', 'debian-pool', 'immutable');
  expectRule('http://mirror.example.net:8080/pool/main/h/hello/hello_2.10-3_amd64.deb', 'debian-pool', 'immutable');
  expectRule('http://security.debian.org/debian-security/pool/updates/main/o/openssl/libssl3_3.0.15-1~deb12u1_amd64.deb', 'debian-pool', 'immutable');
  expectRule('http://deb.debian.org/debian/pool/main/d/debian-installer/netcfg_1.187_amd64.udeb', 'debian-pool', 'immutable');
  expectRule('http://deb.debian.org/debian/pool/main/h/hello/hello_2.10-3.dsc', 'debian-pool', 'immutable');
  expectRule('http://deb.debian.org/debian/pool/main/h/hello/hello_2.10.orig.tar.gz', 'debian-pool', 'immutable');
  expectRule('http://deb.debian.org/debian/pool/main/h/hello/hello_2.10-3.debian.tar.xz', 'debian-pool', 'immutable');
  expectRule('http://deb.debian.org/debian/pool/main/h/hello/hello_2.10.orig.tar.gz.asc', 'debian-pool', 'immutable');
  expectRule('http://archive.debian.org/debian/pool/main/h/hello/hello_2.8-4.diff.gz', 'debian-pool', 'immutable');
  expectRule('http://deb.debian.org/debian/pool/main/z/zstd/zstd_1.5.6+dfsg.orig.tar.zst', 'debian-pool', 'immutable');
});

test('debian: by-hash indexes are immutable; named indexes are short-lived', () => {
  expectRule(`http://deb.debian.org/debian/dists/bookworm/main/binary-amd64/by-hash/SHA256/${HEX64}`, 'debian-by-hash', 'immutable');
  expectRule(`http://deb.debian.org/debian/dists/bookworm/main/i18n/by-hash/SHA256/${HEX64}`, 'debian-by-hash', 'immutable');
  for (const file of ['InRelease', 'Release', 'Release.gpg']) {
    expectRule(`http://deb.debian.org/debian/dists/bookworm/${file}`, 'debian-index', 'short');
  }
  for (const path of [
    'main/binary-amd64/Packages', 'main/binary-amd64/Packages.gz', 'main/binary-amd64/Packages.xz',
    'main/source/Sources.xz', 'main/i18n/Translation-en', 'main/i18n/Translation-de.bz2', 'main/Contents-amd64.gz',
    'main/dep11/Components-amd64.yml.gz', 'main/binary-amd64/Packages.diff/Index',
  ]) {
    expectRule(`http://deb.debian.org/debian/dists/bookworm/${path}`, 'debian-index', 'short');
  }
  expectRule('https://archive.ubuntu.com/ubuntu/dists/noble-updates/InRelease', 'debian-index', 'short');
});

test('debian: look-alikes are not matched', () => {
  expectRule('http://deb.debian.org/debian/pool/main/h/hello/', undefined);
  expectRule('http://deb.debian.org/debian/pool/README', undefined);
  expectRule('http://example.com/pool-party/photos/summer.deb', undefined);
  expectRule('http://example.com/downloads/hello_2.10-3_amd64.deb', undefined);
  expectRule('http://deb.debian.org/debian/dists/bookworm/main/installer-amd64/current/images/netboot/netboot.tar.gz', undefined);
  expectRule('http://deb.debian.org/debian/dists/bookworm/ChangeLog', undefined);
  expectRule('http://deb.debian.org/debian/dists/bookworm/main/binary-amd64/by-hash/SHA256/not-hex', undefined);
  expectRule('http://example.com/InRelease', undefined);
});

test('npm: tarballs are immutable on any registry; package documents are short-lived on the public registries', () => {
  expectRule('https://registry.npmjs.org/express/-/express-4.21.0.tgz', 'npm-tarball', 'immutable');
  expectRule('http://registry.npmjs.org/express/-/express-4.21.0.tgz', 'npm-tarball', 'immutable');
  expectRule('https://registry.npmjs.org/@babel/core/-/core-7.24.0.tgz', 'npm-tarball', 'immutable');
  expectRule('https://registry.npmjs.org/typescript/-/typescript-5.7.0-dev.20241001.tgz', 'npm-tarball', 'immutable');
  expectRule('https://npm.example.corp/api/npm/npm-remote/lodash/-/lodash-4.17.21.tgz', 'npm-tarball', 'immutable');
  expectRule('https://registry.npmjs.org/express', 'npm-metadata', 'short');
  expectRule('https://registry.npmjs.org/@babel/core', 'npm-metadata', 'short');
  expectRule('https://registry.npmjs.org/@babel%2fcore', 'npm-metadata', 'short');
  expectRule('https://registry.npmjs.org/express/latest', 'npm-metadata', 'short');
  expectRule('https://registry.yarnpkg.com/left-pad', 'npm-metadata', 'short');
});

test('npm: look-alikes are not matched', () => {
  // the file name must repeat the package name, and the version starts with a digit
  expectRule('https://registry.npmjs.org/express/-/koa-2.0.0.tgz', undefined);
  expectRule('https://registry.npmjs.org/express/-/express-latest.tgz', undefined);
  expectRule('https://example.com/downloads/express-4.21.0.tgz', undefined);
  // registry API endpoints and other sites' single-segment pages are not package documents
  expectRule('https://registry.npmjs.org/-/v1/search?text=express', undefined);
  expectRule('https://registry.npmjs.org/-/ping', undefined);
  expectRule('https://example.com/express', undefined);
  expectRule('https://registry.npmjs.org.evil.example/express', undefined);
});

test('pypi: /packages/ files are immutable; /simple/ and the JSON API are short-lived', () => {
  const hashed = `https://files.pythonhosted.org/packages/4d/5b/${'dfaeb22a7c2ae8c64b37ae4f6dd1fd05d11'}a1b0b8c0a5b6b9d3e5b6fa42b/requests-2.32.3-py3-none-any.whl`;
  expectRule(hashed, 'pypi-files', 'immutable');
  expectRule(`${hashed}.metadata`, 'pypi-files', 'immutable');
  expectRule('https://files.pythonhosted.org/packages/63/70/2bf7780ad2d390a8d301ad0b550f1581eadbd9a20f896afe06353c2a2913/requests-2.32.3.tar.gz', 'pypi-files', 'immutable');
  expectRule('https://files.pythonhosted.org/packages/source/r/requests/requests-2.32.3.tar.gz', 'pypi-files', 'immutable');
  expectRule('http://pypi.mirror.example/pypi/web/packages/4d/5b/abc/x-1.0-py3-none-any.whl', 'pypi-files', 'immutable');
  expectRule('https://pypi.org/simple/', 'pypi-simple', 'short');
  expectRule('https://pypi.org/simple/requests/', 'pypi-simple', 'short');
  expectRule('https://pypi.org/simple/requests', 'pypi-simple', 'short');
  expectRule('http://devpi.example:3141/root/pypi/+simple/requests/', 'pypi-simple', 'short');
  expectRule('https://pypi.org/pypi/requests/json', 'pypi-json', 'short');
  expectRule('https://pypi.org/pypi/requests/2.32.3/json', 'pypi-json', 'short');
  expectRule('https://example.com/packages/index.html', undefined);
  expectRule('https://example.com/packages/list', undefined);
  expectRule('https://pypi.org/project/requests/', undefined);
  expectRule('https://pypi.org/simple/requests/extra/path', undefined);
});

test('oci: blobs and manifests by digest are immutable; manifests by tag are short-lived', () => {
  expectRule(`https://registry-1.docker.io/v2/library/nginx/blobs/sha256:${HEX64}`, 'oci-blob', 'immutable');
  expectRule(`http://127.0.0.1:5000/v2/team/sub/app/blobs/sha256:${HEX64}`, 'oci-blob', 'immutable');
  expectRule(`https://ghcr.io/v2/org/img/blobs/sha512:${HEX64}${HEX64}`, 'oci-blob', 'immutable');
  expectRule(`https://registry-1.docker.io/v2/library/nginx/manifests/sha256:${HEX64}`, 'oci-manifest-digest', 'immutable');
  expectRule('https://registry-1.docker.io/v2/library/nginx/manifests/latest', 'oci-manifest-tag', 'short');
  expectRule('https://registry-1.docker.io/v2/library/node/manifests/20.18-bookworm-slim', 'oci-manifest-tag', 'short');
  // look-alikes
  expectRule(`https://registry-1.docker.io/v2/library/nginx/blobs/sha256:${HEX64.slice(1)}`, undefined);
  expectRule(`https://registry-1.docker.io/v2/library/nginx/blobs/uploads/`, undefined);
  expectRule('https://registry-1.docker.io/v2/library/nginx/tags/list', undefined);
  expectRule('https://registry-1.docker.io/v2/', undefined);
  expectRule(`https://example.com/api/v2/library/nginx/blobs/sha256:${HEX64}`, undefined);
});

test('an unrelated URL matches no preset rule', () => {
  for (const url of ['http://example.com/', 'https://example.com/index.html', 'http://example.com/api/users?id=1', 'https://www.debian.org/releases/']) {
    expectRule(url, undefined);
  }
});

test('matching stays fast on long adversarial URLs (no catastrophic backtracking)', () => {
  const segs = (s: string, n: number) => `/${s}`.repeat(n);
  const evil = [
    `http://h${segs('pool', 3200)}/x`,
    `http://h${segs('dists', 2600)}/x`,
    `http://h/v2${segs('a', 7900)}/manifests/!`,
    `http://h${segs('a', 7900)}/-/b`,
    `http://h${segs('packages', 1700)}/x`,
    `http://h${segs('simple', 2200)}/a/b`,
    `http://h${segs('pypi', 3000)}`,
    `http://h/${'a'.repeat(16_000)}`,
    `https://registry.npmjs.org/${'@a/'.repeat(5000)}`,
  ];
  for (const url of evil) {
    const start = performance.now();
    for (let i = 0; i < 5; i++) all.match(url);
    const perMatch = (performance.now() - start) / 5;
    // linear patterns take well under a millisecond here; quadratic ones take seconds
    assert.ok(perMatch < 50, `${url.slice(0, 40)}… took ${perMatch.toFixed(1)} ms`);
  }
});

test('README.md lists every preset pattern verbatim', () => {
  const doc = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const name of PRESET_NAMES) {
    for (const rule of PRESETS[name]) {
      assert.ok(doc.includes(rule.name), `README.md names ${rule.name}`);
      assert.ok(doc.includes(rule.pattern), `README.md shows the pattern of ${rule.name}`);
    }
  }
});
