import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Write a file so that readers see either the old content or the whole new one, never a part:
 * write a temporary file beside it, flush it, then rename over the target.
 *
 * @example
 * await writeFileAtomic('out/result.json', JSON.stringify(result));
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await removeStaleTemps(dir, path.basename(file));
}

/** Temp files of earlier writes of `base` whose process died mid-write (kill -9, power loss). */
async function removeStaleTemps(dir: string, base: string): Promise<void> {
  const prefix = `.${base}.`;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = n.startsWith(prefix) ? /^(\d+)\.\d+\.tmp$/.exec(n.slice(prefix.length)) : null;
    if (!m || Number(m[1]) === process.pid || isAlive(Number(m[1]))) continue;
    await fs.rm(path.join(dir, n), { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
