/**
 * Vite build of the web playground: web/ → web-dist/. The TF.js WASM binaries are copied to
 * web-dist/wasm/ (the worker points `setWasmPaths` there) and the `highs` package's ES module and
 * WebAssembly to web-dist/highs/ (the exact solver's Web Worker imports them by URL); the bundled
 * model is NOT copied: the dev server and `actmax serve` both serve it from models/fashion-mnist-mlp/.
 * The page imports the library as a user would, from `actmax/browser` (src/browser.ts here); files
 * with a browser twin (package.json "browser": solver-thread, local-files, the ONNX runtime) are
 * swapped for it. onnxruntime-web's WebAssembly is emitted by the bundler next to its module (it
 * is referenced as `new URL(…, import.meta.url)`); the pages are served cross-origin isolated so
 * it can run threaded.
 */
import { defineConfig, type Plugin } from 'vite';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserTwins, twinOf } from '../scripts/browser-twins.js';
// The same model files `actmax serve` serves: the classifier, its examples and data prior, the decoder prior.
import { SERVED_MODEL_FILES } from '../src/cli/serve.js';

const webDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(webDir, '..');
const srcDir = path.join(repoRoot, 'src') + path.sep;
const wasmDir = path.join(repoRoot, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
const highsDir = path.join(repoRoot, 'node_modules', 'highs', 'build');
const HIGHS_FILES = ['highs.mjs', 'highs.wasm'];

const tfjsDist = path.join(repoRoot, 'node_modules', '@tensorflow');
const TFJS_BUNDLES: [RegExp, string][] = [
  [/^@tensorflow\/tfjs(-core)?$/, path.join(tfjsDist, 'tfjs', 'dist', 'tf.fesm.min.js')],
  [/^@tensorflow\/tfjs-backend-wasm$/, path.join(tfjsDist, 'tfjs-backend-wasm', 'dist', 'tf-backend-wasm.fesm.min.js')],
];
const isTfjs = (source: string) => TFJS_BUNDLES.some(([pattern]) => pattern.test(source));

/**
 * The worker takes TF.js from its prebuilt ES module bundles, kept whole, instead of ~1,500
 * modules to parse and tree-shake (most of the build's CPU). The WASM backend's bundle imports
 * '@tensorflow/tfjs-core', which the union bundle exports in full, so both share one engine; their
 * kernels register themselves at import, so nothing in them may be shaken off.
 */
function prebuiltTfjs(): Plugin {
  return {
    name: 'actmax-prebuilt-tfjs',
    enforce: 'pre',
    resolveId(source, importer) {
      const bundle = TFJS_BUNDLES.find(([pattern]) => pattern.test(source));
      if (bundle) return { id: bundle[1], moduleSideEffects: 'no-treeshake' };
      // h5wasm is one 4 MB emscripten module (WebAssembly inlined): nothing in it to shake off.
      if (source === 'h5wasm') return this.resolve(source, importer, { skipSelf: true }).then((r) => r && { ...r, moduleSideEffects: 'no-treeshake' as const });
      return null;
    },
  };
}

/**
 * The page calls only TF.js-free helpers of actmax/browser (objective parsing, shapes); the worker
 * runs the model. Reading the library's modules as free of import-time effects and TF.js as an
 * external lets Rollup leave it out of the page unparsed; the build fails if the page ever needs it.
 */
function pageWithoutTfjs(): Plugin {
  return {
    name: 'actmax-page-without-tfjs',
    enforce: 'pre',
    resolveId(source) {
      return isTfjs(source) ? { id: source, external: true, moduleSideEffects: false } : null;
    },
    generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        const tf = chunk.type === 'chunk' ? chunk.imports.find(isTfjs) : undefined;
        if (tf) this.error(`the page (${chunk.fileName}) uses ${tf}: TF.js belongs in the worker (web/src/worker.ts), not the page`);
      }
    },
  };
}

/** Serves /wasm/*, /highs/* and the bundled models' files in dev; copies the wasm binaries into the build. */
function actmaxAssets(): Plugin {
  return {
    name: 'actmax-assets',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = (req.url ?? '').split('?')[0];
        let file: string | null = null;
        let type = 'application/octet-stream';
        if (url.startsWith('/wasm/') && WASM_FILES.includes(url.slice(6))) {
          file = path.join(wasmDir, url.slice(6));
          type = 'application/wasm';
        } else if (url.startsWith('/highs/') && HIGHS_FILES.includes(url.slice(7))) {
          file = path.join(highsDir, url.slice(7));
          type = url.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
        } else if (/^\/models\/[\w-]+\/[\w.-]+$/.test(url)) {
          const [, , name, f] = url.split('/');
          if (SERVED_MODEL_FILES[name]?.includes(f)) file = path.join(repoRoot, 'models', name, f);
          if (file?.endsWith('.json')) type = 'application/json';
        }
        if (!file) return next();
        res.setHeader('Content-Type', type);
        res.setHeader('Content-Length', statSync(file).size);
        createReadStream(file).pipe(res);
      });
    },
    generateBundle() {
      for (const f of WASM_FILES) {
        this.emitFile({ type: 'asset', fileName: `wasm/${f}`, source: readFileSync(path.join(wasmDir, f)) });
      }
      for (const f of HIGHS_FILES) {
        this.emitFile({ type: 'asset', fileName: `highs/${f}`, source: readFileSync(path.join(highsDir, f)) });
      }
    },
  };
}

/** The package.json "browser" swaps, applied to the TypeScript sources. */
function twinFiles(): Plugin {
  const twins = browserTwins(repoRoot);
  return {
    name: 'actmax-browser-twins',
    enforce: 'pre',
    resolveId(source, importer) {
      return importer ? twinOf(source, importer, twins) : null;
    },
  };
}

/** Cross-origin isolation in the dev server too (threads for WebAssembly), as `actmax serve` does. */
function isolation(): Plugin {
  return {
    name: 'actmax-isolation',
    configureServer(server) {
      server.middlewares.use((_req, res, next) => {
        res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
        res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
        next();
      });
    },
  };
}

export default defineConfig({
  root: webDir,
  base: './',
  plugins: [isolation(), pageWithoutTfjs(), twinFiles(), actmaxAssets()],
  resolve: {
    alias: [{ find: /^actmax\/browser$/, replacement: path.join(repoRoot, 'src', 'browser.ts') }],
  },
  // Workers are bundled apart: they need the same swaps.
  worker: { format: 'es', plugins: () => [prebuiltTfjs(), twinFiles()] },
  build: {
    outDir: path.join(repoRoot, 'web-dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
    sourcemap: false,
    // Page build only (see pageWithoutTfjs); the worker keeps every module's effects.
    rollupOptions: { treeshake: { moduleSideEffects: (id) => !id.startsWith(srcDir) } },
  },
  server: { fs: { allow: [repoRoot] } },
});
