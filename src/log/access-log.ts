/**
 * The access log: one line per finished request, in json (pino), squid or combined format, to stdout or
 * a file. Writes go through sonic-boom (pino.destination) asynchronously, so a line never blocks the event
 * loop; the buffer is bounded and lines beyond it are dropped and counted (a slow disk must not grow the
 * heap without limit).
 *
 * Rotation: logrotate renames the file and sends SIGHUP; `reopen()` then opens the path again, and the
 * lines already buffered go to the old file before the switch, the new ones to the new file.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';
import type { AccessRecord, RequestObserver } from './record.js';
import { formatCombined, formatSquid, formatJson } from './formats.js';

export interface AccessLog extends RequestObserver {
  /** Reopen the file (after a rename by logrotate). No-op for stdout and 'off'. */
  reopen(): void;
  /** Flush what is buffered and close the file. */
  close(): Promise<void>;
}

export interface AccessLogOptions {
  format: 'json' | 'squid' | 'combined';
  /** '-' for stdout, 'off' for none, else a file path (appended to, parent directories created) */
  file: string;
  /** diagnostics logger, told about write errors and dropped lines */
  log?: Logger;
  /** bytes buffered while the destination is slow before lines are dropped (default 16 MiB) */
  maxBufferBytes?: number;
}

type Destination = ReturnType<typeof pino.destination>;

const DROP_REPORT_INTERVAL_MS = 10_000;

export function createAccessLog(opts: AccessLogOptions): AccessLog {
  if (opts.file === 'off') {
    return { onRequest() {}, reopen() {}, async close() {} };
  }
  const toStdout = opts.file === '-';
  if (!toStdout) probeWritable(opts.file);
  const maxLength = opts.maxBufferBytes ?? 16 * 1024 * 1024;
  const dest: Destination = toStdout
    ? pino.destination({ fd: 1, sync: false, maxLength })
    : pino.destination({ dest: opts.file, sync: false, append: true, mkdir: true, maxLength });

  let dropped = 0;
  let lastDropReport = 0;
  let lastErrorReport = 0;
  dest.on('drop', () => {
    dropped++;
    const now = Date.now();
    if (now - lastDropReport >= DROP_REPORT_INTERVAL_MS) {
      lastDropReport = now;
      opts.log?.warn({ dropped, file: opts.file }, 'access log: destination too slow, lines dropped');
    }
  });
  dest.on('error', (err: Error) => {
    const now = Date.now();
    if (now - lastErrorReport >= DROP_REPORT_INTERVAL_MS) {
      lastErrorReport = now;
      opts.log?.error({ err: err.message, file: opts.file }, 'access log: write failed');
    }
  });

  let write: (r: AccessRecord) => void;
  if (opts.format === 'json') {
    // pino's destination, without pino's level/pid/hostname: an access line carries only request fields
    write = (r) => { dest.write(`${formatJson(r)}\n`); };
  } else {
    const format = opts.format === 'squid' ? formatSquid : formatCombined;
    write = (r) => { dest.write(`${format(r)}\n`); };
  }

  let closed = false;
  // sonic-boom drops a reopen that is still pending when end() is called (it never opens the new file and
  // never closes): close() therefore waits for a pending reopen to finish first.
  let reopened: Promise<void> | undefined;
  return {
    onRequest(r) {
      if (closed) return;
      try {
        write(r);
      } catch (err) {
        opts.log?.error({ err: (err as Error).message }, 'access log: cannot write');
      }
    },
    reopen() {
      if (toStdout || closed) return;
      try {
        const done = new Promise<void>((resolve) => {
          const finish = (): void => {
            dest.off('ready', finish);
            dest.off('error', finish);
            resolve();
          };
          dest.once('ready', finish);
          dest.once('error', finish);
        });
        reopened = done;
        void done.then(() => { if (reopened === done) reopened = undefined; });
        dest.reopen();
      } catch (err) {
        opts.log?.error({ err: (err as Error).message, file: opts.file }, 'access log: cannot reopen');
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      if (reopened) await reopened;
      await new Promise<void>((resolve) => {
        dest.once('close', () => resolve());
        dest.once('error', () => resolve());
        try {
          dest.end();
        } catch {
          resolve();
        }
      });
    },
  };
}

/** Fail at start, with a clear message, when the log file cannot be opened for appending. */
function probeWritable(file: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    closeSync(openSync(file, 'a'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new Error(`access log ${file}: cannot open for writing (${code})`);
  }
}
