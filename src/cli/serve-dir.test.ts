import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDirServer } from './serve-dir.js';
import type { RunningServer } from './serve.js';

/** GET with the path sent byte for byte (fetch would normalise `..` away). */
function get(port: number, rawPath: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: rawPath, method }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let base: string;
let dir: string;
let srv: RunningServer;

beforeAll(async () => {
  // An atlas folder, a secret beside it, and things inside it that must never be served.
  base = mkdtempSync(path.join(os.tmpdir(), 'actmax-serve-dir-'));
  dir = path.join(base, 'atlas');
  mkdirSync(path.join(dir, 'layers'), { recursive: true });
  mkdirSync(path.join(dir, 'units', 'conv', '0'), { recursive: true });
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>atlas</title>');
  writeFileSync(path.join(dir, 'atlas.css'), 'body{}');
  writeFileSync(path.join(dir, 'manifest.json'), '{"units":[]}');
  writeFileSync(path.join(dir, 'layers', 'conv.html'), '<p>conv</p>');
  writeFileSync(path.join(dir, 'units', 'conv', '0', 'index.html'), '<p>unit</p>');
  writeFileSync(path.join(dir, 'units', 'conv', '0', 'best.png'), Buffer.from([137, 80, 78, 71]));
  writeFileSync(path.join(dir, 'units', 'conv', '0', '.best.png.123.456.tmp'), 'half-written');
  writeFileSync(path.join(dir, 'key.pem'), 'PRIVATE');
  writeFileSync(path.join(base, 'secret.txt'), 'SECRET');
  symlinkSync(path.join(base, 'secret.txt'), path.join(dir, 'leak.txt'));
  symlinkSync(base, path.join(dir, 'up'));
  srv = await startDirServer({ dir, port: 0, log: () => {} });
});

afterAll(async () => {
  await srv?.close();
  rmSync(base, { recursive: true, force: true });
});

describe('startDirServer', () => {
  it('serves the pages, pictures and data of the folder with their content types; a folder path means its index.html', async () => {
    expect(srv.url).toBe(`http://127.0.0.1:${srv.port}/`);
    const index = await get(srv.port, '/');
    expect([index.status, index.type]).toEqual([200, 'text/html; charset=utf-8']);
    expect((await get(srv.port, '/layers/conv.html')).body).toBe('<p>conv</p>');
    expect((await get(srv.port, '/units/conv/0/')).body).toBe('<p>unit</p>');
    expect((await get(srv.port, '/units/conv/0/best.png')).type).toBe('image/png');
    expect((await get(srv.port, '/manifest.json')).type).toContain('application/json');
    expect((await get(srv.port, '/atlas.css')).type).toContain('text/css');
  });

  it('serves files that appear while an atlas is still running', async () => {
    expect((await get(srv.port, '/layers/dense.html')).status).toBe(404);
    writeFileSync(path.join(dir, 'layers', 'dense.html'), '<p>dense</p>');
    expect((await get(srv.port, '/layers/dense.html')).body).toBe('<p>dense</p>');
  });

  it('refuses hidden files, other file types, links out of the folder, listings and other methods', async () => {
    for (const p of ['/units/conv/0/.best.png.123.456.tmp', '/key.pem', '/leak.txt', '/up/secret.txt', '/units/', '/layers/', '/units/conv/0']) {
      expect((await get(srv.port, p)).status, p).toBe(404);
    }
    expect((await get(srv.port, '/index.html', 'POST')).status).toBe(405);
  });

  it('answers 404 to every path traversal variant', async () => {
    const attacks = [
      '/../secret.txt', '/layers/../../secret.txt', '/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt', '/%252e%252e%252fsecret.txt',
      '/..%2fsecret.txt', '/..%5csecret.txt', '/layers\\..\\..\\secret.txt', '/index.html%00.png', '/./index.html', '//etc/passwd',
      '/%2fetc%2fpasswd', '/%c0%ae%c0%ae/secret.txt', '/%', '/units/conv/0/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt',
    ];
    for (const p of attacks) {
      const r = await get(srv.port, p);
      expect(r.status, p).toBe(404);
      expect(r.body, p).not.toContain('SECRET');
    }
  });

  it('refuses a folder without index.html in one line naming the fix', async () => {
    await expect(startDirServer({ dir: path.join(dir, 'layers'), port: 0, log: () => {} })).rejects.toThrow(/has no index\.html; give an atlas folder \(actmax atlas MODEL --out DIR\)/);
    await expect(startDirServer({ dir: path.join(base, 'nope'), port: 0, log: () => {} })).rejects.toThrow(/does not exist/);
  });
});
