/** What generated example modules call: the `// value` and `// throws` conventions (see generate.ts). */
import { expect } from 'vitest';
import { isActmaxError } from '../../src/errors.js';

/**
 * The value of an example's expression equals the literal its comment shows (objects: the fields shown).
 * @example
 * expectShown(1 + 1, 2, 'src/x.ts:3');
 */
export function expectShown(actual: unknown, shown: unknown, where: string): void {
  const value = ArrayBuffer.isView(actual) && !(actual instanceof DataView) ? Array.from(actual as unknown as ArrayLike<number>) : actual;
  if (shown !== null && typeof shown === 'object' && !Array.isArray(shown)) expect(value, where).toMatchObject(shown as Record<string, unknown>);
  else expect(value, where).toEqual(shown);
}

/**
 * An example line commented `// throws …` throws an ActmaxError.
 * @example
 * await expectThrows(async () => { JSON.parse('{'); }, 'src/x.ts:3');
 */
export async function expectThrows(fn: () => Promise<unknown>, where: string): Promise<void> {
  const e = await fn().then(() => null, (err: unknown) => err);
  expect(e, `${where}: the line says it throws`).not.toBeNull();
  expect(isActmaxError(e), `${where}: ${String(e)}`).toBe(true);
}
