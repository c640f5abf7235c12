// PNG files (pngjs, Node). The browser-safe image helpers are in raster.ts.
import { PNG } from 'pngjs';
import { ActmaxError } from '../errors.js';
import type { RgbaImage } from './raster.js';

export { isImageShape, toRgba, gridImage, type RgbaImage, type GridPanel } from './raster.js';

/** Encode RGBA to PNG bytes. @example await writeFileAtomic('x.png', encodePng(img)) */
export function encodePng(img: RgbaImage): Uint8Array {
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return new Uint8Array(PNG.sync.write(png));
}

/** Decode PNG bytes to RGBA; a clear error for anything else. @example decodePng(bytes, 'input.png') */
export function decodePng(bytes: Uint8Array, name: string): RgbaImage {
  try {
    const png = PNG.sync.read(Buffer.from(bytes));
    return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
  } catch (e) {
    throw new ActmaxError('bad-input', `${name} is not a readable PNG: ${(e as Error).message}`);
  }
}
