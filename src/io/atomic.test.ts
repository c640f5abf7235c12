import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic.js';

/** A pid no process has: above the kernel's pid_max default (4,194,304). */
const DEAD_PID = 4_999_999;

describe('writeFileAtomic', () => {
  it('writes the whole content, removes a dead writer\'s temp file in the folder, keeps a live one\'s', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'actmax-atomic-'));
    const dead = path.join(dir, `.other.png.${DEAD_PID}.1700000000000.tmp`);
    const live = path.join(dir, `.other.png.${process.ppid}.1700000000000.tmp`);
    await fs.writeFile(dead, 'half');
    await fs.writeFile(live, 'half');
    await writeFileAtomic(path.join(dir, 'a.json'), '{"a":1}');
    expect(await fs.readFile(path.join(dir, 'a.json'), 'utf8')).toBe('{"a":1}');
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    // No temp file of this process is left behind.
    expect((await fs.readdir(dir)).filter((n) => n.includes(`.${process.pid}.`))).toEqual([]);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('makes the folder again when it was removed after an earlier write', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'actmax-atomic-'));
    const file = path.join(dir, 'sub', 'b.txt');
    await writeFileAtomic(file, 'one');
    await fs.rm(path.join(dir, 'sub'), { recursive: true });
    await writeFileAtomic(file, 'two');
    expect(await fs.readFile(file, 'utf8')).toBe('two');
    await fs.rm(dir, { recursive: true, force: true });
  });
});
