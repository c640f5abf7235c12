// What actmax reads from a model's user-defined metadata (TF.js `userDefinedMetadata`, or the
// metadata actmax writes when converting): class names and input ranges, checked with zod. A
// field of the wrong form is ignored with a note, never trusted.
import { z } from 'zod';
import { jsonPath } from '../io/validate.js';
import type { InputInfo } from './types.js';

const Range = z
  .tuple([z.number(), z.number()])
  .refine(([lo, hi]) => Number.isFinite(lo) && Number.isFinite(hi) && lo < hi, 'expected [lo, hi] with finite lo < hi');

/** The metadata fields actmax understands (others are kept as they are). */
export const MetadataSchema = z.looseObject({
  /** Class names of the first output, or per output name. */
  classNames: z.union([z.array(z.string()), z.record(z.string(), z.array(z.string()))]).optional(),
  /** Value range of the first input. */
  inputRange: Range.optional(),
  /** Value range per input name (or index). */
  inputRanges: z.record(z.string(), Range).optional(),
});

const FIELDS = { classNames: MetadataSchema.shape.classNames, inputRange: MetadataSchema.shape.inputRange, inputRanges: MetadataSchema.shape.inputRanges };
const EXPECTED: Record<keyof typeof FIELDS, string> = {
  classNames: 'a list of names, or lists per output name',
  inputRange: '[lo, hi] with lo < hi',
  inputRanges: '{"inputName": [lo, hi]}',
};

function field<K extends keyof typeof FIELDS>(metadata: Record<string, unknown>, key: K): z.infer<(typeof FIELDS)[K]> | undefined {
  const r = FIELDS[key].safeParse(metadata[key]);
  return r.success ? (r.data as z.infer<(typeof FIELDS)[K]>) : undefined;
}

/**
 * One note per metadata field actmax understands but cannot use (it falls back to its defaults).
 * @example
 * metadataNotes({ inputRange: [1, 0] }) // ['metadata "inputRange" is ignored: expected [lo, hi] with finite lo < hi']
 */
export function metadataNotes(metadata: Record<string, unknown>): string[] {
  const notes: string[] = [];
  for (const key of Object.keys(FIELDS) as Array<keyof typeof FIELDS>) {
    const r = FIELDS[key].safeParse(metadata[key]);
    if (r.success) continue;
    const issue = r.error.issues[0];
    const where = jsonPath(issue.path, key);
    notes.push(`metadata "${where}" is ignored: ${issue.code === 'custom' ? issue.message : `expected ${EXPECTED[key]}`}`);
  }
  return notes;
}

/**
 * An input's value range from the metadata (by name, by index, or `inputRange` for the first
 * input), else [0, 1].
 * @example
 * rangeFor({ inputRange: [-1, 1] }, 'x', 0) // { range: [-1, 1], rangeSource: 'metadata' }
 */
export function rangeFor(metadata: Record<string, unknown>, name: string, index: number): Pick<InputInfo, 'range' | 'rangeSource'> {
  const byName = field(metadata, 'inputRanges');
  const cand = (byName && (byName[name] ?? byName[String(index)])) ?? (index === 0 ? field(metadata, 'inputRange') : undefined);
  return cand ? { range: [cand[0], cand[1]], rangeSource: 'metadata' } : { range: [0, 1], rangeSource: 'default' };
}

/**
 * An output's class names from the metadata, when they are there and there is one per unit.
 * @example
 * classNamesFor({ classNames: ['cat', 'dog'] }, 'out', 0, 2) // ['cat', 'dog']
 */
export function classNamesFor(metadata: Record<string, unknown>, name: string, index: number, units: number): string[] | undefined {
  const all = field(metadata, 'classNames');
  const names = Array.isArray(all) ? (index === 0 ? all : undefined) : all?.[name];
  return names && names.length === units ? names : undefined;
}
