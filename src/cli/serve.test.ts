import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanRequestPath, startServer, type RunningServer } from './serve.js';
import { ActmaxError } from '../errors.js';

/** GET with the path sent byte for byte (fetch would normalise `..` away). */
function get(port: number, rawPath: string, method = 'GET'): Promise<{ status: number; type: string; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: rawPath, method }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

let root: string;
let srv: RunningServer;
const lines: string[] = [];

beforeAll(async () => {
  // A fake package root: a built app, the bundled model, and files that must never be served.
  root = mkdtempSync(path.join(os.tmpdir(), 'actmax-serve-'));
  mkdirSync(path.join(root, 'web-dist', 'assets'), { recursive: true });
  mkdirSync(path.join(root, 'web-dist', 'wasm'), { recursive: true });
  mkdirSync(path.join(root, 'models', 'fashion-mnist-mlp'), { recursive: true });
  mkdirSync(path.join(root, 'models', 'other'), { recursive: true });
  writeFileSync(path.join(root, 'web-dist', 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(path.join(root, 'web-dist', 'assets', 'main-abc.js'), 'console.log(1)');
  writeFileSync(path.join(root, 'web-dist', 'wasm', 'tfjs-backend-wasm-simd.wasm'), Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]));
  writeFileSync(path.join(root, 'models', 'fashion-mnist-mlp', 'model.json'), '{"m":1}');
  writeFileSync(path.join(root, 'models', 'fashion-mnist-mlp', 'weights.bin'), Buffer.alloc(16));
  writeFileSync(path.join(root, 'models', 'fashion-mnist-mlp', 'notes.txt'), 'not on the allow-list');
  writeFileSync(path.join(root, 'models', 'other', 'model.json'), '{"other":1}');
  writeFileSync(path.join(root, 'package.json'), '{"secret":true}');
  writeFileSync(path.join(root, 'secret.txt'), 'SECRET');
  srv = await startServer({ port: 0, root, log: (l) => lines.push(l) });
});

afterAll(async () => {
  await srv?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('startServer', () => {
  it('binds 127.0.0.1 by default and prints the URL', () => {
    const addr = srv.server.address();
    expect(typeof addr === 'object' && addr?.address).toBe('127.0.0.1');
    expect(srv.url).toBe(`http://127.0.0.1:${srv.port}/`);
    expect(lines.join('\n')).toContain(srv.url);
  });

  it('serves every file cross-origin isolated (COOP/COEP), so WebAssembly can run threaded', async () => {
    for (const p of ['/', '/assets/main-abc.js', '/models/fashion-mnist-mlp/model.json']) {
      const r = await get(srv.port, p);
      expect(r.status).toBe(200);
      expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp');
    }
  });

  it('serves the app, its assets and the bundled model with the right content types', async () => {
    const index = await get(srv.port, '/');
    expect(index.status).toBe(200);
    expect(index.type).toContain('text/html');
    expect(index.body).toContain('<title>app</title>');
    expect((await get(srv.port, '/index.html?x=1')).status).toBe(200);
    const js = await get(srv.port, '/assets/main-abc.js');
    expect([js.status, js.type]).toEqual([200, 'text/javascript; charset=utf-8']);
    const wasm = await get(srv.port, '/wasm/tfjs-backend-wasm-simd.wasm');
    expect([wasm.status, wasm.type]).toEqual([200, 'application/wasm']);
    const model = await get(srv.port, '/models/fashion-mnist-mlp/model.json');
    expect([model.status, model.body]).toEqual([200, '{"m":1}']);
    expect(model.type).toContain('application/json');
    const head = await get(srv.port, '/models/fashion-mnist-mlp/weights.bin', 'HEAD');
    expect([head.status, head.type, head.body]).toEqual([200, 'application/octet-stream', '']);
  });

  it('serves nothing outside the allow-list and no directory listings', async () => {
    for (const p of [
      '/package.json', '/secret.txt', '/models/other/model.json', '/models/fashion-mnist-mlp/notes.txt',
      '/models/fashion-mnist-mlp/', '/models/', '/assets/', '/assets', '/wasm/', '/web-dist/index.html', '/nope.js',
    ]) {
      expect((await get(srv.port, p)).status, p).toBe(404);
    }
    expect((await get(srv.port, '/index.html', 'POST')).status).toBe(405);
  });

  it('answers 404 to every path traversal variant', async () => {
    const attacks = [
      '/../package.json', '/../secret.txt', '/assets/../../secret.txt', '/assets/../index.html',
      '/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt', '/%2E%2E%2Fpackage.json', '/assets/%2e%2e/%2e%2e/secret.txt',
      '/%252e%252e%252fsecret.txt', '/%252e%252e/secret.txt', '/..%2fsecret.txt', '/..%5csecret.txt',
      '/assets\\..\\..\\secret.txt', '/%5c..%5csecret.txt', '/index.html%00.js', '/index.html%00', '/./index.html',
      '//etc/passwd', '/%2fetc%2fpasswd', '/models/fashion-mnist-mlp/../../secret.txt',
      '/models/fashion-mnist-mlp/%2e%2e/%2e%2e/package.json', '/models/fashion-mnist-mlp/..%2f..%2fsecret.txt',
      '/%c0%ae%c0%ae/secret.txt', '/%e0%80%ae%e0%80%ae/secret.txt', '/%', '/%zz',
    ];
    for (const p of attacks) {
      const r = await get(srv.port, p);
      expect(r.status, p).toBe(404);
      expect(r.body, p).not.toContain('SECRET');
      expect(r.body, p).not.toContain('secret');
    }
  });

  it('refuses to start when the web app is not built, naming the fix', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'actmax-serve-empty-'));
    try {
      await expect(startServer({ port: 0, root: empty, log: () => {} })).rejects.toThrow(ActmaxError);
      await expect(startServer({ port: 0, root: empty, log: () => {} })).rejects.toThrow(/npm run build:web/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('reports a port in use as a one-line user error', async () => {
    await expect(startServer({ port: srv.port, root, log: () => {} })).rejects.toThrow(/already in use/);
  });
});

describe('cleanRequestPath', () => {
  it('decodes once and rejects dot segments, backslashes, NUL and leftover escapes', () => {
    expect(cleanRequestPath('/assets/a%20b.js?q=1')).toBe('/assets/a b.js');
    expect(cleanRequestPath('/')).toBe('/');
    expect(cleanRequestPath('/%2e%2e/x')).toBeNull();
    expect(cleanRequestPath('/%252e%252e/x')).toBeNull();
    expect(cleanRequestPath('/a\\b')).toBeNull();
    expect(cleanRequestPath('/a%00b')).toBeNull();
    expect(cleanRequestPath('relative')).toBeNull();
  });
});
