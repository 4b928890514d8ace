/** Pieces the benchmarks share: waiting for a child to say its port, and filling a cache with /obj/<i>. */
import type { ChildProcess } from 'node:child_process';
import { Pool } from 'undici';

/** The port a child prints (first capture group of `pattern`, on stdout or stderr). */
export function waitForPort(child: ChildProcess, pattern: RegExp): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    const on = (d: Buffer) => { text += d; const m = pattern.exec(text); if (m) resolve(Number(m[1])); };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.on('exit', () => reject(new Error(`exited: ${text}`)));
  });
}

/** GET /obj/<from> … /obj/<to - 1> through the proxy on `port`, 8 at a time; any non-200 fails. */
export async function fillObjects(port: number, from: number, to: number): Promise<void> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 8 });
  let next = from;
  const worker = async () => {
    while (next < to) {
      const i = next++;
      const r = await pool.request({ path: `/obj/${i}`, method: 'GET' });
      await r.body.dump();
      if (r.statusCode !== 200) throw new Error(`status ${r.statusCode} for /obj/${i}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  await pool.close();
}
