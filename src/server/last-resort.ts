/**
 * The last-resort policy for errors nothing else handled. Each is logged with its stack and counted
 * (larder_uncaught_errors_total{kind}); then:
 *
 * - `unhandledRejection`: keep serving. Every request path catches its own errors and answers 5xx, so a
 *   rejection that gets here comes from a task nobody awaited (a background revalidation, a store
 *   commit): that one task failed; the stack unwound normally and the event loop is intact.
 * - `uncaughtException`: exit (code 1) after a bounded drain. The throw unwound through code that did
 *   not expect it, maybe halfway through updating shared state (a socket, a store handle, a counter);
 *   Node's documentation says the process is then in an undefined state and must not simply resume.
 *   The listener stops accepting, requests in flight get up to `graceMs` to finish, and the process
 *   exits whatever happens; the supervisor (systemd Restart=, a container restart policy, or the
 *   cluster primary, which starts a new worker for a dead one) brings a fresh process up. A second
 *   exception during that drain exits at once.
 */

export interface LastResortLogger {
  error(obj: object, msg: string): void;
  fatal(obj: object, msg: string): void;
}

export interface LastResortDeps {
  log: LastResortLogger;
  count: (kind: 'exception' | 'rejection') => void;
  /** graceful close (stop accepting, drain, close stores) */
  shutdown: () => Promise<void>;
  /** upper bound on the drain before exiting anyway, ms */
  graceMs: number;
  exit?: (code: number) => void;
  /** the process (tests pass an EventEmitter) */
  proc?: NodeJS.EventEmitter;
}

/** Install the handlers; returns a function that removes them. */
export function installLastResort(deps: LastResortDeps): () => void {
  const proc = deps.proc ?? process;
  const exit = deps.exit ?? ((code: number) => process.exit(code));
  let exiting = false;

  const onRejection = (reason: unknown): void => {
    deps.count('rejection');
    deps.log.error({ err: reason }, 'unhandled promise rejection (a bug): the task that failed is abandoned, serving continues');
  };
  const onException = (err: unknown): void => {
    deps.count('exception');
    if (exiting) {
      deps.log.fatal({ err }, 'uncaught exception during the drain after an uncaught exception: exiting now');
      exit(1);
      return;
    }
    exiting = true;
    deps.log.fatal({ err }, `uncaught exception (a bug): the process state is undefined; draining for at most ${deps.graceMs} ms, then exiting for the supervisor to restart it`);
    const hard = setTimeout(() => exit(1), deps.graceMs + 1000);
    deps.shutdown().catch(() => undefined).finally(() => { clearTimeout(hard); exit(1); });
  };
  proc.on('unhandledRejection', onRejection);
  proc.on('uncaughtException', onException);
  return () => {
    proc.off('unhandledRejection', onRejection);
    proc.off('uncaughtException', onException);
  };
}
