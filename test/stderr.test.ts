/**
 * `npx actmax …` prints nothing on stderr but actmax's own lines (progress, one-line errors): no
 * TF.js banner or backend chatter. Runs the real executable (bin/actmax.js) in a child process,
 * as a checkout runs it: through tsx, not the test run's prebuilt JavaScript (ACTMAX_PREBUILT,
 * which the other CLI tests use), so this file also covers that path.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers.js';

const run = promisify(execFile);
const BIN = path.join(REPO, 'bin/actmax.js');
const LIVENESS = path.join(REPO, 'test/fixtures/tfjs-graph-realworld/liveness');
const OWN = /^(actmax: |maximize: step )/;
const { ACTMAX_PREBUILT: _prebuilt, ...CHECKOUT_ENV } = process.env;

async function stderrOf(args: string[]): Promise<{ code: number; lines: string[] }> {
  try {
    const { stderr } = await run(process.execPath, [BIN, ...args], { cwd: REPO, timeout: 120_000, env: CHECKOUT_ENV });
    return { code: 0, lines: stderr.split('\n').filter((l) => l.trim() !== '') };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, lines: err.stderr.split('\n').filter((l) => l.trim() !== '') };
  }
}

describe('stderr holds only actmax\'s own lines', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'actmax-stderr-'));
  it.each([
    ['maximize (graph model, CPU backend: the one that printed the banner)', ['maximize', LIVENESS, '--objective', 'logit:1', '--steps', '2', '--restarts', '1', '--backend', 'cpu', '--out', path.join(out, 'a')], 0],
    ['a refused objective', ['maximize', LIVENESS, '--objective', 'neuron:nope:0', '--out', path.join(out, 'c')], 2],
  ] as Array<[string, string[], number]>)('%s', async (_title, args, code) => {
    const r = await stderrOf(args);
    expect(r.code).toBe(code);
    for (const line of r.lines) expect(line).toMatch(OWN);
    if (code !== 0) expect(r.lines).toHaveLength(1);
  });
});
