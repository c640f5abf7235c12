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
    super(message);
    this.name = 'ActmaxError';
    this.code = code;
  }
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
