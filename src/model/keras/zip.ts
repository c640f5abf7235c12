/**
 * Reads chosen entries of a zip archive with fflate, refusing entries whose declared size is over
 * a cap before inflating anything (fflate inflates into a buffer of the declared size and never
 * grows it, so a lying header cannot make it allocate more).
 */
import { unzipSync } from 'fflate';
import { ActmaxError } from '../../errors.js';

/** Largest uncompressed entry (and total) accepted: 1 GiB. */
export const MAX_ZIP_BYTES = 2 ** 30;
/** Largest JSON entry (config.json, metadata.json) accepted: 64 MiB. */
export const MAX_JSON_ENTRY_BYTES = 2 ** 26;

/**
 * Lists a zip's entry names and extracts those `want` accepts.
 *
 * @example
 * const { names, entries } = readZip(bytes, 'model.keras', (n) => n === 'config.json');
 */
export function readZip(
  bytes: Uint8Array,
  file: string,
  want: (name: string) => boolean,
  maxBytes = MAX_ZIP_BYTES,
): { names: string[]; entries: Map<string, Uint8Array> } {
  const names: string[] = [];
  let total = 0;
  let tooBig: string | null = null;
  let out: Record<string, Uint8Array>;
  try {
    out = unzipSync(bytes, {
      filter: (info) => {
        names.push(info.name);
        if (!want(info.name) || tooBig) return false;
        total += info.originalSize;
        // JSON members (config, metadata) are small: a 256 MiB one is a bomb that would take
        // seconds to parse, not a model.
        const cap = info.name.endsWith('.json') ? Math.min(maxBytes, MAX_JSON_ENTRY_BYTES) : maxBytes;
        if (info.originalSize > cap || total > maxBytes) {
          tooBig = `${info.name} (${info.originalSize} bytes) would inflate past the ${info.originalSize > cap ? cap : maxBytes}-byte limit`;
          return false;
        }
        return true;
      },
    });
  } catch (e) {
    throw new ActmaxError('bad-model', `${file}: not a readable zip archive (truncated or corrupted?): ${(e as Error).message}`);
  }
  if (tooBig) {
    throw new ActmaxError('bad-model', `${file}: zip entry ${tooBig}; refusing to unpack it`);
  }
  return { names, entries: new Map(Object.entries(out)) };
}
