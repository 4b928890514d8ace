/**
 * Diagnostics logger: start/stop, configuration, errors. JSON lines to stderr (fd 2), never mixed with
 * the access log (which goes to stdout or its own file).
 */
import { pino, type Logger } from 'pino';
import type { Config } from '../config/load.js';

export function createDiagnostics(level: Config['logLevel']): Logger {
  // Synchronous writes: diagnostics are rare, and a fatal error must reach stderr before the process exits.
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: 2, sync: true }));
}
