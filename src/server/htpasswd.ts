/**
 * htpasswd files for proxy authentication: one `user:hash` per line, `#` starts a comment line.
 *
 * Accepted hashes (all salted and slow):
 * - bcrypt `$2a$`, `$2b$`, `$2y$` (Apache `htpasswd -B`), verified with bcryptjs. bcrypt uses only the
 *   first 72 bytes of a password.
 * - SHA-crypt `$5$` (SHA-256) and `$6$` (SHA-512), optionally `$5$rounds=N$salt$...` — the glibc
 *   algorithm, implemented here from Ulrich Drepper's specification
 *   (https://www.akkadia.org/drepper/SHA-crypt.txt). Made by `openssl passwd -5` / `-6` and `mkpasswd`.
 * - scrypt, larder's own format: `$scrypt$N=16384,r=8,p=1$<salt>$<hash>` where salt and hash are standard
 *   base64 (padding optional) and the hash length is the derived key length (32 bytes from hashScrypt).
 *   Parameters: N a power of two in 2..2^20, r 1..32, p 1..16. The password is NFC-normalised UTF-8.
 *   Make one with `hashScrypt(password)`.
 *
 * Refused with a ConfigError naming file and line: plain text, crypt(3) DES, MD5 (`$apr1$`, `$1$`) and
 * SHA-1 (`{SHA}`): they are unsalted or fast enough to brute-force a stolen file.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import { ConfigError } from '../errors.js';

const WEAK = 'weak or plain-text hash; use bcrypt: htpasswd -B';

/** Read an htpasswd file into user → hash. Throws a ConfigError naming the file (and line) on any problem. */
export function loadHtpasswd(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`auth file ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseHtpasswd(text, path);
}

/** Parse htpasswd text; `path` is used in error messages only. */
export function parseHtpasswd(text: string, path: string): Map<string, string> {
  const users = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `auth file ${path}:${i + 1}`;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ConfigError(`${where}: expected "user:hash"`);
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    const problem = hashProblem(hash);
    if (problem !== undefined) throw new ConfigError(`${where}: user "${user}": ${problem}`);
    if (users.has(user)) throw new ConfigError(`${where}: user "${user}" appears twice`);
    users.set(user, hash);
  }
  return users;
}

/** Why a stored hash is not accepted, or undefined when it is a well-formed strong hash. */
export function hashProblem(hash: string): string | undefined {
  if (/^\$2[aby]\$/.test(hash)) {
    return /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/.test(hash) ? undefined : 'malformed bcrypt hash';
  }
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) {
    return parseShaCrypt(hash) ? undefined : 'malformed SHA-crypt hash';
  }
  if (hash.startsWith('$scrypt$')) {
    return parseScrypt(hash) ? undefined : 'malformed scrypt hash (expected $scrypt$N=16384,r=8,p=1$<salt b64>$<hash b64>)';
  }
  const scheme = /^\$([A-Za-z0-9-]+)\$/.exec(hash);
  if (scheme && !['1', 'apr1', 'md5'].includes(scheme[1]!)) {
    return `unsupported hash scheme $${scheme[1]}$; use bcrypt: htpasswd -B`;
  }
  return WEAK;
}

/** Check a password against a stored hash. Unknown or malformed hashes never verify. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  if (hashProblem(hash) !== undefined) return false;
  if (hash.startsWith('$2')) return verifyBcrypt(hash, password);
  if (hash.startsWith('$scrypt$')) return verifyScrypt(hash, password);
  const made = await shaCryptAsync(password, hash);
  return made !== undefined && sameString(made, hash);
}

async function verifyBcrypt(hash: string, password: string): Promise<boolean> {
  // derive with the stored salt and compare the derived part ourselves, in constant time
  const salt = hash.slice(0, 29);
  const made = await bcrypt.hash(password, salt);
  return sameString(made.slice(29), hash.slice(29));
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

// ---- scrypt ----

interface ScryptHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parseScrypt(hash: string): ScryptHash | undefined {
  const m = /^\$scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/.exec(hash);
  if (!m) return undefined;
  const N = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  if (!(N >= 2 && N <= 2 ** 20 && (N & (N - 1)) === 0)) return undefined;
  if (!(r >= 1 && r <= 32 && p >= 1 && p <= 16)) return undefined;
  const salt = Buffer.from(m[4]!, 'base64');
  const key = Buffer.from(m[5]!, 'base64');
  if (salt.length < 8 || key.length < 16 || key.length > 128) return undefined;
  return { N, r, p, salt, key };
}

function scryptAsync(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password.normalize('NFC'), salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function scryptOptions(N: number, r: number, p: number): ScryptOptions {
  // memory needed is about 128 * N * r bytes; give room above Node's 32 MiB default when needed
  return { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
}

async function verifyScrypt(hash: string, password: string): Promise<boolean> {
  const h = parseScrypt(hash)!;
  const key = await scryptAsync(password, h.salt, h.key.length, scryptOptions(h.N, h.r, h.p));
  return timingSafeEqual(key, h.key);
}

/** Make a scrypt htpasswd hash: `$scrypt$N=16384,r=8,p=1$<16-byte salt>$<32-byte key>`, base64 without padding. */
export async function hashScrypt(password: string, params: { N?: number; r?: number; p?: number } = {}): Promise<string> {
  const N = params.N ?? 16384;
  const r = params.r ?? 8;
  const p = params.p ?? 1;
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, 32, scryptOptions(N, r, p));
  const b64 = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');
  const made = `$scrypt$N=${N},r=${r},p=${p}$${b64(salt)}$${b64(key)}`;
  if (!parseScrypt(made)) throw new RangeError('hashScrypt: parameters out of range (N power of two up to 2^20, r 1..32, p 1..16)');
  return made;
}

// ---- SHA-crypt (Drepper, https://www.akkadia.org/drepper/SHA-crypt.txt) ----

const ROUNDS_DEFAULT = 5000;
const ROUNDS_MIN = 1000;
const ROUNDS_MAX = 999_999_999;
const CRYPT_B64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

interface ShaCryptSetting {
  algorithm: 'sha256' | 'sha512';
  id: '5' | '6';
  /** rounds, clamped to [1000, 999999999] as the spec says */
  rounds: number;
  /** the setting named rounds explicitly (then the output repeats `rounds=N$`) */
  roundsCustom: boolean;
  /** at most 16 characters */
  salt: string;
  /** the encoded hash after the salt, when the input was a full hash */
  encoded?: string;
}

function parseShaCrypt(setting: string): ShaCryptSetting | undefined {
  const m = /^\$([56])\$(?:rounds=(\d{1,10})\$)?([!-#%-9;-~]*)(?:\$([./A-Za-z0-9]*))?$/.exec(setting);
  if (!m) return undefined;
  const id = m[1] as '5' | '6';
  const roundsCustom = m[2] !== undefined;
  const rounds = roundsCustom ? Math.min(ROUNDS_MAX, Math.max(ROUNDS_MIN, Number(m[2]))) : ROUNDS_DEFAULT;
  const salt = m[3]!.slice(0, 16);
  const encoded = m[4];
  if (encoded !== undefined && encoded.length !== (id === '5' ? 43 : 86)) return undefined;
  return { algorithm: id === '5' ? 'sha256' : 'sha512', id, rounds, roundsCustom, salt, encoded };
}

/** Repeat `block` to exactly `length` bytes. */
function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += block.length) block.copy(out, i, 0, Math.min(block.length, length - i));
  return out;
}

interface ShaCryptState {
  s: ShaCryptSetting;
  P: Buffer;
  S: Buffer;
  Pseq: Buffer;
  Sseq: Buffer;
  C: Buffer;
}

/** Steps 1-20 of the specification: everything before the rounds. */
function shaCryptStart(password: string, setting: string): ShaCryptState | undefined {
  const s = parseShaCrypt(setting);
  if (!s) return undefined;
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(s.salt, 'utf8');
  // steps 4-8: digest B = H(P S P)
  const B = createHash(s.algorithm).update(P).update(S).update(P).digest();
  // steps 1-3, 9-12: digest A = H(P S, B repeated to |P| bytes, then per bit of |P| from the lowest: B for 1, P for 0)
  const a = createHash(s.algorithm).update(P).update(S).update(repeatTo(B, P.length));
  for (let n = P.length; n > 0; n >>= 1) a.update(n & 1 ? B : P);
  const A = a.digest();
  // steps 13-16: P sequence from DP = H(P repeated |P| times)
  const dp = createHash(s.algorithm);
  for (let i = 0; i < P.length; i++) dp.update(P);
  const Pseq = repeatTo(dp.digest(), P.length);
  // steps 17-20: S sequence from DS = H(S repeated 16 + A[0] times)
  const ds = createHash(s.algorithm);
  for (let i = 0; i < 16 + A[0]!; i++) ds.update(S);
  const Sseq = repeatTo(ds.digest(), S.length);
  return { s, P, S, Pseq, Sseq, C: A };
}

/** Step 21: rounds [from, to). */
function shaCryptRounds(st: ShaCryptState, from: number, to: number): void {
  let C = st.C;
  for (let i = from; i < to; i++) {
    const c = createHash(st.s.algorithm);
    c.update(i & 1 ? st.Pseq : C);
    if (i % 3 !== 0) c.update(st.Sseq);
    if (i % 7 !== 0) c.update(st.Pseq);
    c.update(i & 1 ? C : st.Pseq);
    C = c.digest();
  }
  st.C = C;
}

/** Step 22: the output string. */
function shaCryptFinish(st: ShaCryptState): string {
  const { s, C } = st;
  const prefix = `$${s.id}$${s.roundsCustom ? `rounds=${s.rounds}$` : ''}${s.salt}$`;
  return prefix + (s.id === '5' ? encode256(C) : encode512(C));
}

/**
 * SHA-crypt of `password` with `setting` (`$5$salt`, `$6$rounds=N$salt`, or a full hash whose setting
 * is reused). Returns the full hash string, or undefined when the setting is not SHA-crypt.
 * Synchronous: blocks for all rounds (about 10 ms at the default 5000); verification uses the async form.
 */
export function shaCrypt(password: string, setting: string): string | undefined {
  const st = shaCryptStart(password, setting);
  if (!st) return undefined;
  shaCryptRounds(st, 0, st.s.rounds);
  return shaCryptFinish(st);
}

/** Rounds per slice before yielding to the event loop, so a large `rounds=` does not stall the proxy. */
const ROUNDS_PER_SLICE = 2000;

/** SHA-crypt that yields to the event loop between slices of rounds. */
export async function shaCryptAsync(password: string, setting: string): Promise<string | undefined> {
  const st = shaCryptStart(password, setting);
  if (!st) return undefined;
  for (let i = 0; i < st.s.rounds; i += ROUNDS_PER_SLICE) {
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    shaCryptRounds(st, i, Math.min(st.s.rounds, i + ROUNDS_PER_SLICE));
  }
  return shaCryptFinish(st);
}

function b64From24(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = '';
  for (let i = 0; i < n; i++) {
    out += CRYPT_B64[w & 0x3f];
    w >>= 6;
  }
  return out;
}

// step 22: the byte order of the final encoding, straight from the specification
const ORDER_256: [number, number, number][] = [
  [0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14],
  [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29],
];
const ORDER_512: [number, number, number][] = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
  [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
  [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
];

function encode256(C: Buffer): string {
  let out = '';
  for (const [x, y, z] of ORDER_256) out += b64From24(C[x]!, C[y]!, C[z]!, 4);
  return out + b64From24(0, C[31]!, C[30]!, 3);
}

function encode512(C: Buffer): string {
  let out = '';
  for (const [x, y, z] of ORDER_512) out += b64From24(C[x]!, C[y]!, C[z]!, 4);
  return out + b64From24(0, 0, C[63]!, 2);
}
