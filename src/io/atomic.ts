import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Folders this process has made sure exist and cleaned of dead writers' temp files: each is done
 * once per folder, not per write (an atlas writes thousands of files into a few folders; a
 * directory scan per write made recording quadratic).
 */
const readyDirs = new Set<string>();

/**
 * Write a file so that readers see either the old content or the whole new one, never a part:
 * write a temporary file beside it, flush it, then rename over the target.
 *
 * @example
 * await writeFileAtomic('out/result.json', JSON.stringify(result));
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.resolve(path.dirname(file));
  const first = !readyDirs.has(dir);
  if (first) await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(tmp, 'w');
  } catch (e) {
    // The folder went away since this process last wrote there: make it again.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || first) throw e;
    readyDirs.delete(dir);
    return writeFileAtomic(file, data);
  }
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
  if (first) {
    await removeStaleTemps(dir);
    readyDirs.add(dir);
  }
}

/** Temp files of earlier writes whose process died mid-write (kill -9, power loss). */
async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^\..+\.(\d+)\.\d+\.tmp$/.exec(n);
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
