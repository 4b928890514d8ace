/**
 * htpasswd fixtures for tests: temporary files and known hashes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';

/** Drepper's SHA-crypt specification vectors (https://www.akkadia.org/drepper/SHA-crypt.txt), checked against libxcrypt. */
export const SHA_CRYPT_VECTORS: { setting: string; password: string; hash: string }[] = [
  { setting: '$5$saltstring', password: 'Hello world!', hash: '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5' },
  { setting: '$5$rounds=10000$saltstringsaltstring', password: 'Hello world!', hash: '$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA' },
  { setting: '$5$rounds=5000$toolongsaltstring', password: 'This is just a test', hash: '$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5' },
  { setting: '$5$rounds=10$roundstoolow', password: 'the minimum number is still observed', hash: '$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC' },
  { setting: '$6$saltstring', password: 'Hello world!', hash: '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1' },
  { setting: '$6$rounds=10000$saltstringsaltstring', password: 'Hello world!', hash: '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.' },
];

/** A fast bcrypt hash (cost 4) for tests. */
export function bcryptHash(password: string): string {
  return bcrypt.hashSync(password, 4);
}

export interface TempDir {
  dir: string;
  /** write `name` in the directory, returning its path */
  write(name: string, text: string): string;
  remove(): void;
}

export function tempDir(prefix = 'larder-auth-'): TempDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The value of a Proxy-Authorization field for Basic credentials. */
export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}
