/**
 * Runs the real CLI (`node --import tsx src/cli.ts --port 0 ...`) as a child process, so a crash or the
 * proxy's own memory can be observed from outside.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Start the CLI on an ephemeral port; resolves with the child and its port. */
export async function startCli(args: string[], cwd = new URL('../..', import.meta.url).pathname): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--workers', '1', '--port', '0', '--no-disk', '--admin-port', '0', '--access-log', 'off', '--log-level', 'error', ...args],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd });
  const port = await new Promise<number>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`larder did not start: ${err}`)), 15_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(err);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.once('exit', (c) => { clearTimeout(timer); reject(new Error(`larder exited ${c}: ${err}`)); });
  });
  return { child, port };
}

