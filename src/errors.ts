/**
 * The one error type actmax throws for problems a person can fix (bad file, bad spec,
 * impossible constraint). The CLI prints `message` on one line and exits with code 2;
 * any other exception is a bug.
 *
 * @example
 * const e = new ActmaxError('unknown-layer', 'layer "dens" does not exist; layers are: dense, dense_1');
 * e.code // 'unknown-layer'
 */
export class ActmaxError extends Error {
  readonly code: ActmaxErrorCode;
  constructor(code: ActmaxErrorCode, message: string) {
    super(readableLine(message));
    this.name = 'ActmaxError';
    this.code = code;
  }
}

/** Longest message kept whole: a longer one quotes too much of some file. */
const MAX_MESSAGE = 1500;
/** Control, format (bidi overrides), surrogate, private-use and unassigned code points, and U+FFFD. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\uFFFD]/gu;

/**
 * A message as one readable line: line breaks become spaces, characters a terminal would not show
 * as text (control codes, escape sequences, bidi overrides, bytes that were not UTF-8) become
 * `\xNN` / `\u{…}` escapes, and an overlong message is cut. Text quoted from damaged files
 * (names in a zip directory, layer classes, attributes) is the usual source.
 *
 * @example
 * readableLine('bad entry "\x1b[31mred\u0000"') // 'bad entry "\\x1b[31mred\\x00"'
 */
export function readableLine(message: string): string {
  const flat = message.replace(/\s*[\r\n]+\s*/g, ' ');
  const clean = flat.replace(UNPRINTABLE, (c) => {
    const cp = c.codePointAt(0)!;
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
  });
  return clean.length > MAX_MESSAGE ? `${clean.slice(0, MAX_MESSAGE)}… (cut)` : clean;
}

export type ActmaxErrorCode =
  | 'file-not-found'
  | 'file-unreadable'
  | 'bad-model'
  | 'unsupported-layer'
  | 'unknown-layer'
  | 'unknown-input'
  | 'unknown-output'
  | 'index-out-of-range'
  | 'bad-spec'
  | 'bad-input'
  | 'bad-option'
  | 'infeasible'
  | 'unsupported'
  | 'backend'
  | 'aborted'
  | 'internal-check';

/**
 * True when `e` is an {@link ActmaxError}.
 * @example
 * const e = await loadModel('no/such/model.json').catch((err: unknown) => err);
 * isActmaxError(e) // true
 */
export function isActmaxError(e: unknown): e is ActmaxError {
  return e instanceof ActmaxError;
}
