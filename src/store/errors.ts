/**
 * Coded errors of the store layer (fastify-style: match on `code`, never on the message).
 * Messages say what happened and what to do; they never carry a stack to a user.
 */

export type StoreErrorCode =
  | 'LARDER_ERR_STORE_OPEN'
  | 'LARDER_ERR_STORE_SIZE'
  | 'LARDER_ERR_STORE_TOO_LARGE'
  | 'LARDER_ERR_STORE_ABORTED'
  | 'LARDER_ERR_STORE_CORRUPT'
  | 'LARDER_ERR_STORE_FULL'
  | 'LARDER_ERR_STORE_KEY';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

/** The store directory could not be opened (format version, corruption, permissions). */
export class StoreOpenError extends StoreError {
  readonly dir: string;
  constructor(dir: string, message: string, options?: { cause?: unknown }) {
    super('LARDER_ERR_STORE_OPEN', message, options);
    this.name = 'StoreOpenError';
    this.dir = dir;
  }
}

/** The body length differs from the announced length (truncated or overlong response). */
export function sizeMismatch(key: string, expected: number, got: number): StoreError {
  return new StoreError('LARDER_ERR_STORE_SIZE', `body of ${key} is ${got} bytes, expected ${expected}: not stored`);
}

/** The body grew beyond the store's maxObjectSize. */
export function tooLarge(key: string, limit: number): StoreError {
  return new StoreError('LARDER_ERR_STORE_TOO_LARGE', `body of ${key} exceeds the largest storable object (${limit} bytes): not stored`);
}

/** The writer was aborted (or already committed) and takes no more data. */
export function writerClosed(key: string): StoreError {
  return new StoreError('LARDER_ERR_STORE_ABORTED', `writer for ${key} is closed`);
}

/** Stored bytes no longer match their digest: the entry was removed. */
export function corrupt(key: string): StoreError {
  return new StoreError('LARDER_ERR_STORE_CORRUPT', `stored body of ${key} does not match its digest: entry removed`);
}

/** The disk (or LMDB map) is full, or the byte budget is taken by fills in flight: the entry is not stored. */
export function storeFull(key: string, why: string): StoreError {
  return new StoreError('LARDER_ERR_STORE_FULL', `${key} not stored: ${why}`);
}

/** The key (URL + variant) is longer than the store can index: nothing of it is written. */
export function keyTooLong(key: string, limit: number): StoreError {
  return new StoreError('LARDER_ERR_STORE_KEY', `${key.slice(0, 100)}... not stored: its key is longer than the store's ${limit}-byte key limit`);
}
