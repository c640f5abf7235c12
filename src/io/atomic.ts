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
}
