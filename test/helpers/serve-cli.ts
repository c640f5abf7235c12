/**
 * `actmax serve [DIR] --port 0` as a user runs it: a child process, the URL read from its output.
 * Used by the browser tests and the playground bench.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Start the CLI's server on a free port; `close` stops it and waits for the exit.
 * @example
 * const server = await startServeCli(['atlas-out']); // server.url: 'http://127.0.0.1:41233/'
 * await server.close();
 */
export function startServeCli(args: string[] = [], timeoutMs = 30_000): Promise<{ url: string; close(): Promise<void> }> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'actmax.js'), 'serve', ...args, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`actmax serve printed no URL: ${out}`)), timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], close: () => new Promise((r) => { child.once('exit', () => r()); child.kill('SIGTERM'); }) });
      }
    });
    child.stderr.on('data', (d) => (out += d));
    child.once('exit', (code) => reject(new Error(`actmax serve exited with ${code}: ${out}`)));
  });
}
