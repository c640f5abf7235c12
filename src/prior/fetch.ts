/**
 * Stored priors by URL (browsers, and Node's fetch): the playground reads the prior stored beside
 * the bundled model this way, as it reads the model. Browser-safe: no Node modules.
 */
import { ActmaxError } from '../errors.js';
import { decodeStoredPrior, type StoredPrior } from './store.js';

/** File name of the prior stored beside a model's model.json. */
export const PRIOR_FILE = 'prior.json';

/**
 * The URL of the prior stored beside a model.json URL (`prior.json` in the same folder).
 *
 * @example
 * datasetPriorUrl('https://example.org/models/fashion-mnist-mlp/model.json')
 * // 'https://example.org/models/fashion-mnist-mlp/prior.json'
 */
export function datasetPriorUrl(modelUrl: string): string {
  return new URL(PRIOR_FILE, modelUrl).href;
}

/**
 * Fetches a stored prior: its JSON header at `url` and the binary the header names (same folder).
 * One-line `ActmaxError`s for a failed request or a file that is not an actmax prior.
 *
 * @example
 * // In a page: await fetchStoredPrior(datasetPriorUrl(modelUrl)). Here a stand-in server:
 * const { header, binary } = encodeStoredPrior(buildStoredPrior(Array.from({ length: 40 }, (_, i) => Math.sin(i * i)), 10, [2, 2], 3, 'ten'), 'prior.bin');
 * const files: Record<string, string | ArrayBuffer> = { 'https://example.org/m/prior.json': JSON.stringify(header), 'https://example.org/m/prior.bin': binary.slice().buffer };
 * const stored = await fetchStoredPrior('https://example.org/m/prior.json', async (u) => new Response(files[u]));
 * stored.components // 3
 */
export async function fetchStoredPrior(url: string, fetchImpl: (url: string) => Promise<Response> = (u) => fetch(u)): Promise<StoredPrior> {
  const get = async (u: string): Promise<Response> => {
    let res: Response;
    try {
      res = await fetchImpl(u);
    } catch (e) {
      throw new ActmaxError('file-not-found', `could not fetch the prior ${u}: ${(e as Error).message}`);
    }
    if (!res.ok) throw new ActmaxError('file-not-found', `could not fetch the prior ${u}: HTTP ${res.status}; a model's stored prior is prior.json + prior.bin beside its model.json`);
    return res;
  };
  let header: unknown;
  try {
    header = await (await get(url)).json();
  } catch (e) {
    if (e instanceof ActmaxError) throw e;
    throw new ActmaxError('bad-input', `${url} is not valid JSON: ${(e as Error).message}`);
  }
  const name = (header as { binary?: unknown })?.binary;
  if (typeof name !== 'string' || name.includes('/') || name.includes('\\')) throw new ActmaxError('bad-input', `${url}: "binary" must name a file in the same folder`);
  const binary = new Uint8Array(await (await get(new URL(name, url).href)).arrayBuffer());
  return decodeStoredPrior(header, binary, url);
}
