// Where outside data enters (model.json and its metadata, constraint and input files, the web
// worker's messages) it is checked against a zod schema, and a mismatch becomes one ActmaxError
// line: where, the JSON path, what was expected and what was found. Browser-safe.
import { z } from 'zod';
import { ActmaxError, type ActmaxErrorCode } from '../errors.js';

/**
 * A JSON path as people write it.
 * @example
 * jsonPath(['weights', 2, 'shape'], 'weightsManifest[0]') // 'weightsManifest[0].weights[2].shape'
 */
export function jsonPath(path: ReadonlyArray<PropertyKey>, root = ''): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}${acc ? '.' : ''}${String(p)}`), root);
}

/** A short rendering of a found value (cut; the error line escapes anything unprintable). */
function shown(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/** The value at `path` inside `root`, when there is one. */
function at(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/** The innermost issue: inside a union, the branch that got furthest. */
function deepest(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return issue;
  const branches = issue.errors.map((errs) => errs.map(deepest).sort((a, b) => b.path.length - a.path.length)[0]).filter(Boolean);
  const best = branches.sort((a, b) => b.path.length - a.path.length)[0];
  return best && best.path.length > 0 ? { ...best, path: [...issue.path, ...best.path] } : issue;
}

/**
 * Check `value` against `schema`; returns it typed, or throws one ActmaxError line.
 *
 * @example
 * const spec = validate(z.object({ a: z.array(z.number()), b: z.number() }), { a: [1, 2], b: 3 }, { where: 'c.json', expected: '{"a": [numbers], "b": number}' });
 * spec.b // 3
 * validate(z.object({ b: z.number() }), { b: 'x' }, { where: 'c.json', expected: '{"b": number}' }); // throws: c.json: b is "x" (expected number, received string); expected {"b": number}
 */
export function validate<T>(schema: z.ZodType<T>, value: unknown, o: { where: string; root?: string; expected: string; code?: ActmaxErrorCode }): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = deepest(r.error.issues[0]);
  const path = jsonPath(issue.path, o.root);
  const found = issue.path.length ? at(value, issue.path) : value;
  const why = issue.message.replace(/^Invalid input:? ?/, '');
  const what = issue.code === 'invalid_type' && found === undefined ? 'is missing' : `is ${shown(found)}${why ? ` (${why})` : ''}`;
  throw new ActmaxError(o.code ?? 'bad-input', `${o.where}${path ? `: ${path}` : ''} ${what}; expected ${o.expected}`);
}

export { z };
