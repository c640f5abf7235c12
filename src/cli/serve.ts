import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readdirSync, statSync, createReadStream } from 'node:fs';
import path from 'node:path';
import { ActmaxError } from '../errors.js';

/** Options of {@link startServer}. */
export interface ServeOptions {
  /** TCP port; 0 picks a free one (default 8080). */
  port?: number;
  /** Interface to bind (default 127.0.0.1: only this machine can connect). */
  host?: string;
  /** The package root: holds `web-dist/` (the built web app) and `models/fashion-mnist-mlp/`. */
  root: string;
  /** Where the "serving at URL" line goes (default console.log); pass `() => {}` to stay quiet. */
  log?: (line: string) => void;
}

/** A running playground server. */
export interface RunningServer {
  server: Server;
  /** The page's address, e.g. `http://127.0.0.1:8080/`. */
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

/** The bundled models' files (the classifier with its examples and stored data prior, the decoder prior), the only files served from outside web-dist. */
export const SERVED_MODEL_FILES: Record<string, string[]> = {
  'fashion-mnist-mlp': ['model.json', 'weights.bin', 'examples.json', 'prior.json', 'prior.bin'],
  'fashion-mnist-decoder': ['model.json', 'weights.bin'],
};

/** Content types by file extension. */
export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** Every regular file under `dir`, as URL paths ("/assets/x.js") → absolute file paths. */
function listFiles(dir: string, prefix = '/'): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = path.join(dir, entry.name);
    if (entry.isDirectory()) for (const [k, v] of listFiles(abs, `${prefix}${entry.name}/`)) out.set(k, v);
    else if (entry.isFile()) out.set(`${prefix}${entry.name}`, abs);
  }
  return out;
}

/**
 * The URL path of a request, decoded exactly once, or null when it is malformed or could name
 * something outside the app: `..`/`.` segments, backslashes, NUL, empty segments, or a `%` left
 * after decoding (a double-encoded path).
 */
export function cleanRequestPath(rawUrl: string): string | null {
  const raw = rawUrl.split(/[?#]/, 1)[0];
  if (!raw.startsWith('/')) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return null;
  }
  if (/[\\\0%]/.test(decoded)) return null;
  if (/[\x00-\x1f\x7f]/.test(decoded)) return null;
  const segments = decoded.split('/').slice(1);
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (s === '..' || s === '.') return null;
    if (s === '' && i !== segments.length - 1) return null; // "//" inside the path
  }
  return decoded;
}

/**
 * Serve the built web playground (`web-dist/`) and the bundled Fashion-MNIST model
 * (`/models/fashion-mnist-mlp/`, with its stored data prior, and the decoder prior
 * `/models/fashion-mnist-decoder/`) over HTTP, and print the URL. Only files on an allow-list made at
 * start (every file in web-dist plus {@link SERVED_MODEL_FILES}) are served; everything else, path
 * traversal included (`/../`, `%2e%2e%2f`, double-encoded), gets 404. No directory listings.
 * Binds 127.0.0.1 unless told otherwise. Throws an ActmaxError when web-dist has not been built.
 *
 * @example
 * const { url, close } = await startServer({ port: 8080, root: packageRoot });
 * // … open url in a browser …
 * await close();
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ActmaxError('bad-option', `port must be an integer 0–65535, got ${options.port}`);
  const root = path.resolve(options.root);
  const webDist = path.join(root, 'web-dist');
  let indexOk = false;
  try {
    indexOk = statSync(path.join(webDist, 'index.html')).isFile();
  } catch {
    indexOk = false;
  }
  if (!indexOk) throw new ActmaxError('file-not-found', `the web app is not built (${path.join(webDist, 'index.html')} is missing); run npm run build:web`);

  const allowed = listFiles(webDist);
  const modelDirs = Object.keys(SERVED_MODEL_FILES).map((name) => path.join(root, 'models', name));
  for (const [name, files] of Object.entries(SERVED_MODEL_FILES)) {
    for (const f of files) {
      const abs = path.join(root, 'models', name, f);
      try {
        if (statSync(abs).isFile()) allowed.set(`/models/${name}/${f}`, abs);
      } catch {
        // a missing model file is simply not served; the page reports the failed load
      }
    }
  }
  // Defence in depth: every allowed file must lie inside web-dist or a model directory.
  for (const [key, abs] of allowed) {
    const inside = [webDist, ...modelDirs].some((d) => path.resolve(abs).startsWith(d + path.sep));
    if (!inside) allowed.delete(key);
  }

  return listen((req, res) => handle(req, res, (key) => allowed.get(key)), host, port, options.log ?? console.log, 'actmax playground');
}

/**
 * Bind a request handler on host:port and print "LABEL at URL"; a busy port or an address that is
 * not this machine's is a one-line ActmaxError. Shared by the playground and `actmax serve DIR`.
 *
 * @example
 * const running = await listen((req, res) => res.end('ok'), '127.0.0.1', 0, console.log, 'test');
 */
export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, host: string, port: number, log: (line: string) => void, label: string): Promise<RunningServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new ActmaxError('bad-option', `port ${port} on ${host} is already in use; choose another with --port`));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') reject(new ActmaxError('bad-option', `cannot bind host "${host}"; give an address of this machine, e.g. 127.0.0.1`));
      else reject(e);
    });
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${boundPort}/`;
  log(`${label} at ${url}  (Ctrl+C to stop)`);
  return {
    server,
    url,
    host,
    port: boundPort,
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections?.();
      server.close((e) => (e ? reject(e) : resolve()));
    }),
  };
}

/** 404 with no body worth reading. @example notFound(res) */
export function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end('not found\n');
}

/**
 * Answer GET/HEAD for the file `lookup` maps the cleaned request path to (or 404); other methods
 * get 405. `/` asks for `/index.html`.
 *
 * @example
 * createServer((req, res) => handle(req, res, (key) => allowed.get(key)));
 */
export function handle(req: IncomingMessage, res: ServerResponse, lookup: (key: string) => string | undefined): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('method not allowed\n');
    return;
  }
  const clean = cleanRequestPath(req.url ?? '');
  if (clean === null) return notFound(res);
  const key = clean.endsWith('/') ? `${clean}index.html` : clean;
  const file = lookup(key);
  if (!file) return notFound(res);
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return notFound(res);
    size = st.size;
  } catch {
    return notFound(res);
  }
  const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  res.writeHead(200, {
    'Content-Type': type,
    'Content-Length': size,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    // Cross-origin isolation: SharedArrayBuffer, so WebAssembly (onnxruntime-web, TF.js) runs on several threads.
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    // Hashed assets never change; the page and the model are re-checked.
    'Cache-Control': key.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
