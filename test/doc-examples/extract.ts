/**
 * The `@example` blocks of the public API: every name exported from src/index.ts and
 * src/browser.ts (following `export … from` and `export *` through the sources), with the doc
 * comment that precedes its declaration.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface DocExample {
  /** The exported name (`loadModel`), or `Class.method` for a method of an exported class. */
  name: string;
  /** Source file of the declaration, relative to the repository. */
  file: string;
  line: number;
  code: string;
}

const resolveTs = (from: string, spec: string) => path.resolve(path.dirname(from), spec).replace(/\.js$/, '.ts');

/** Exported names of a module → the file declaring each (re-exports followed). */
export function exportedNames(file: string, seen = new Set<string>()): Map<string, string> {
  const out = new Map<string, string>();
  if (seen.has(file) || !existsSync(file)) return out;
  seen.add(file);
  const src = readFileSync(file, 'utf8');
  for (const m of src.matchAll(/export\s+\*\s+from\s+'([^']+)'/g)) for (const [k, v] of exportedNames(resolveTs(file, m[1]), seen)) out.set(k, v);
  for (const m of src.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'([^']+)'/g)) {
    const target = resolveTs(file, m[2]);
    const inner = exportedNames(target, new Set(seen));
    for (const part of m[1].split(',')) {
      const [orig, alias] = part.replace(/\btype\s+/, '').trim().split(/\s+as\s+/);
      if (!orig) continue;
      out.set(alias ?? orig, inner.get(orig) ?? target);
    }
  }
  for (const m of src.matchAll(/^export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|class|const|let|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm)) out.set(m[1], file);
  return out;
}

/** The @example code blocks of a doc comment. */
function examplesOf(doc: string): string[] {
  const text = doc
    .replace(/^\/\*\*|\*\/$/g, '')
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, ''))
    .join('\n');
  const parts = text.split(/@example\b/).slice(1);
  return parts.map((p) => p.split(/\n\s*@\w+/)[0].trim()).filter((p) => p.length > 0);
}

/** The doc comment right before `export … NAME` in a file, and its line. */
function docOf(src: string, name: string): { doc: string; line: number } | null {
  const decl = new RegExp(`(/\\*\\*(?:(?!\\*/)[\\s\\S])*?\\*/)\\s*export\\s+(?:declare\\s+)?(?:async\\s+)?(?:function\\*?|class|const|let|interface|type|enum)\\s+${name.replace(/\$/g, '\\$')}\\b`);
  const m = decl.exec(src);
  if (!m) return null;
  return { doc: m[1], line: src.slice(0, m.index).split('\n').length };
}

/** Doc comments of the public methods of an exported class. */
function methodDocs(src: string, cls: string): Array<{ name: string; doc: string; line: number }> {
  const start = new RegExp(`export\\s+class\\s+${cls}\\b`).exec(src);
  if (!start) return [];
  const body = src.slice(start.index);
  const out: Array<{ name: string; doc: string; line: number }> = [];
  for (const m of body.matchAll(/(\/\*\*(?:(?!\*\/)[\s\S])*?\*\/)\s*(?:static\s+)?(?:async\s+)?(?:get\s+)?([A-Za-z_$][\w$]*)\s*[(<]/g)) {
    if (m[2] === 'constructor' || m[2].startsWith('_')) continue;
    out.push({ name: `${cls}.${m[2]}`, doc: m[1], line: src.slice(0, start.index + m.index!).split('\n').length });
    if (/^\}/m.test(body.slice(0, m.index))) break;
  }
  return out;
}

/**
 * Every @example of the public API (both entries), one entry per code block.
 * @example
 * const examples = publicExamples('/repo'); // [{ name: 'loadModel', file: 'src/model/load.ts', line: 22, code: '…' }, …]
 */
export function publicExamples(repo: string): { examples: DocExample[]; names: Map<string, string> } {
  const names = new Map<string, string>();
  for (const entry of ['src/index.ts', 'src/browser.ts']) for (const [k, v] of exportedNames(path.join(repo, entry))) names.set(k, v);
  const examples: DocExample[] = [];
  for (const [name, file] of [...names].sort()) {
    const src = readFileSync(file, 'utf8');
    const rel = path.relative(repo, file);
    const own = docOf(src, name);
    for (const code of own ? examplesOf(own.doc) : []) examples.push({ name, file: rel, line: own!.line, code });
    if (new RegExp(`export\\s+class\\s+${name}\\b`).test(src)) {
      for (const md of methodDocs(src, name)) for (const code of examplesOf(md.doc)) examples.push({ name: md.name, file: rel, line: md.line, code });
    }
  }
  return { examples, names };
}
