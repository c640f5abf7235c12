/**
 * An `@example` as a TypeScript module that test/doc-examples.test.ts compiles (tsc) and runs. The
 * example's code sits in a block inside an async function whose scope already holds every public
 * export and the {@link DocContext} names, so examples may (re)declare `model` etc. freely.
 *
 * Two comment conventions make examples checked, not just run:
 * - `EXPR // LITERAL` or `const x = EXPR; // LITERAL`, where LITERAL is a JS literal
 *   (`'logit:2'`, `10`, `true`, `[0, 50, 100]`, `{ kind: 'spectral' }`): the value must equal it
 *   (objects: the fields shown). Comments that are not literals (`// 112×112`, `// …`) are prose.
 * - `STATEMENT; // throws …`: the statement must throw an ActmaxError.
 */
import path from 'node:path';
import type { DocExample } from './extract.js';

/** The literal a comment shows, or undefined when the comment is prose. */
function literal(comment: string): { value: unknown } | undefined {
  if (/[…≈]/.test(comment)) return undefined;
  try {
    return { value: new Function(`"use strict"; return (${comment});`)() };
  } catch {
    return undefined;
  }
}

/** One example line with its conventions applied. */
function transformLine(line: string, where: string): string {
  const at = line.search(/\s\/\/\s/);
  if (at < 0) return line;
  const code = line.slice(0, at).trimEnd();
  const comment = line.slice(at).replace(/^\s*\/\/\s*/, '').trim();
  const indent = /^\s*/.exec(line)![0];
  if (/^throws\b/.test(comment)) return `${indent}await expectThrows(async () => { ${code.trim()} }, ${JSON.stringify(where)});`;
  const lit = literal(comment);
  const body = code.trim().replace(/;$/, '');
  if (!lit || body.includes(';') || body === '') return line;
  const decl = /^(?:const|let)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*/.exec(body);
  if (decl) return `${indent}${body};\n${indent}expectShown(${decl[1]}, ${comment}, ${JSON.stringify(where)});`;
  return `${indent}expectShown(${body}, ${comment}, ${JSON.stringify(where)});`;
}

/**
 * The module source for one example.
 * @example
 * const src = exampleModule(example, { index: ['loadModel'], browser: [] }, '/repo', '/repo/.tmp/doc-examples');
 */
export function exampleModule(ex: DocExample, names: { index: string[]; browser: string[] }, repo: string, outDir: string): string {
  const rel = (p: string) => {
    const r = path.relative(outDir, path.join(repo, p)).split(path.sep).join('/');
    return r.startsWith('.') ? r : `./${r}`;
  };
  const where = `${ex.file}:${ex.line} (${ex.name})`;
  const code = ex.code.split('\n').map((l) => transformLine(l, where)).join('\n');
  return [
    `// Generated from the @example of ${ex.name} in ${ex.file}:${ex.line}.`,
    `import { ${names.index.join(', ')} } from '${rel('src/index.js')}';`,
    names.browser.length ? `import { ${names.browser.join(', ')} } from '${rel('src/browser.js')}';` : '',
    "import * as tf from '@tensorflow/tfjs';",
    "import { z } from 'zod';",
    `import type { DocContext } from '${rel('test/doc-examples/context.js')}';`,
    `import { expectShown, expectThrows } from '${rel('test/doc-examples/checks.js')}';`,
    '',
    'export default async function example(ctx: DocContext): Promise<void> {',
    '  const { model, image } = ctx;',
    '  {',
    code.split('\n').map((l) => `    ${l}`).join('\n'),
    '  }',
    '}',
    '',
  ].join('\n');
}
