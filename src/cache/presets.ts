/**
 * Built-in refresh rules for package mirrors (`--preset debian,npm,pypi,oci`); the README's "Package
 * mirrors and CI farms" section lists them, and the reasons for their numbers are the comments below.
 *
 * Every pattern matches http:// and https:// on any host (mirrors live under many names and path
 * prefixes) and is anchored on the path structure of the repository format, so an unrelated site is not
 * matched by accident. The one exception is npm's package documents, whose paths (`/<name>`) look like
 * any page on any site: that rule is limited to the public npm registries.
 *
 * The patterns are written so that matching stays linear in the URL length (no two unbounded repeats
 * over the same characters next to each other): they run on every cacheable request.
 *
 * Rules only give heuristic freshness to responses without explicit freshness
 * (https://www.rfc-editor.org/rfc/rfc9111#section-4.2.2); `Cache-Control` from the origin still wins.
 */
import type { RefreshRuleInput } from '../config/load.js';

export const PRESET_NAMES = ['debian', 'npm', 'pypi', 'oci'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** scheme and any host[:port] */
const ORIGIN = '^https?://[^/?#]+';
/** any leading path segments (mirror prefixes such as /debian, /ubuntu-ports, /api/npm/remote) */
const PREFIX = '(?:/[^/?#]+)*?';
/** an optional query, then the end of the URL */
const END = '(?:\\?[^#]*)?$';

/** Versioned and content-addressed files never change; one year, then they are fetched again. */
const IMMUTABLE = { immutable: true, max: '365d', offlineOverride: true } as const;

/** A fixed short lifetime (min = max, percent 0), whatever Last-Modified says. */
function shortLived(seconds: number) {
  return { min: seconds, percent: 0, max: seconds, offlineOverride: true } as const;
}

export const PRESETS: Record<PresetName, RefreshRuleInput[]> = {
  debian: [
    {
      // pool/<component>/<prefix>/<source>/<file>; debian-security has pool/updates/<component>/…
      // Debian's archive never publishes two different files under one pool name.
      name: 'debian-pool',
      pattern: `${ORIGIN}${PREFIX}/pool/(?:[^/?#]+/){2,5}[^/?#]+\\.(?:deb|udeb|ddeb|dsc|diff\\.gz|tar\\.(?:gz|xz|bz2|zst|lzma)(?:\\.asc)?)${END}`,
      ...IMMUTABLE,
    },
    {
      // dists/<suite>/…/by-hash/SHA256/<hex>: the URL names the content (apt's Acquire-By-Hash)
      name: 'debian-by-hash',
      pattern: `${ORIGIN}${PREFIX}/dists/(?:[^/?#]+/){1,6}by-hash/(?:MD5Sum|SHA1|SHA256|SHA512)/[0-9a-f]{32,128}${END}`,
      ...IMMUTABLE,
    },
    {
      // the index files apt fetches by name; they change with every mirror push
      name: 'debian-index',
      pattern: `${ORIGIN}${PREFIX}/dists/(?:[^/?#]+/){1,6}(?:InRelease|Release(?:\\.gpg)?|(?:Packages|Sources|Index)(?:\\.(?:gz|xz|bz2|lzma|zst))?|(?:Translation|Contents|Components|Commands|icons)-[^/?#]+)${END}`,
      ...shortLived(60),
    },
  ],
  npm: [
    {
      // /<name>/-/<name>-<version>.tgz and /@scope/<name>/-/<name>-<version>.tgz; the registry refuses
      // to publish a version twice, so the tarball of a version never changes
      name: 'npm-tarball',
      pattern: `${ORIGIN}${PREFIX}/([^/?#]+)/-/\\1-\\d[^/?#]*\\.tgz${END}`,
      ...IMMUTABLE,
    },
    {
      // package documents: /<name>, /@scope/<name>, /@scope%2f<name>, /<name>/<version-or-tag>
      name: 'npm-metadata',
      pattern: `^https?://(?:registry\\.npmjs\\.org|registry\\.yarnpkg\\.com|registry\\.npmmirror\\.com)(?::\\d+)?/(?!-/)(?:@[^/?#]+(?:/|%2[fF]))?[^/?#@]+(?:/[^/?#]+)?/?${END}`,
      ...shortLived(300),
    },
  ],
  pypi: [
    {
      // files.pythonhosted.org/packages/<aa>/<bb>/<hash>/<file> (and /packages/source/<l>/<name>/<file>);
      // PyPI never allows a file name to be reused, even after deletion
      name: 'pypi-files',
      pattern: `${ORIGIN}${PREFIX}/packages/(?:[^/?#]+/){1,4}[^/?#]+\\.(?:whl|tar\\.gz|tar\\.bz2|tar\\.xz|zip|egg|tgz)(?:\\.metadata)?${END}`,
      ...IMMUTABLE,
    },
    {
      // the simple index (PEP 503/691): /simple/ and /simple/<project>/ (devpi: /+simple/)
      name: 'pypi-simple',
      pattern: `${ORIGIN}${PREFIX}/\\+?simple/(?:[^/?#]+/?)?${END}`,
      ...shortLived(300),
    },
    {
      // the JSON API: /pypi/<project>/json and /pypi/<project>/<version>/json
      name: 'pypi-json',
      pattern: `${ORIGIN}${PREFIX}/pypi/[^/?#]+(?:/[^/?#]+)?/json/?${END}`,
      ...shortLived(300),
    },
  ],
  oci: [
    {
      // /v2/<name>/blobs/<digest>: content-addressed (OCI distribution spec; /v2/ is at the root)
      name: 'oci-blob',
      pattern: `${ORIGIN}/v2/(?:[^/?#]+/)+blobs/(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})${END}`,
      ...IMMUTABLE,
    },
    {
      // /v2/<name>/manifests/<digest>: content-addressed
      name: 'oci-manifest-digest',
      pattern: `${ORIGIN}/v2/(?:[^/?#]+/)+manifests/(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})${END}`,
      ...IMMUTABLE,
    },
    {
      // /v2/<name>/manifests/<tag>: tags move (latest, 20, stable)
      name: 'oci-manifest-tag',
      pattern: `${ORIGIN}/v2/(?:[^/?#]+/)+manifests/[A-Za-z0-9_][A-Za-z0-9._-]{0,127}${END}`,
      ...shortLived(60),
    },
  ],
};
