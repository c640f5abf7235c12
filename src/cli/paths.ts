import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Root of the installed package (works from src/ under tsx and from dist/). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The bundled Fashion-MNIST model. */
export const BUNDLED_MODEL = path.join(PACKAGE_ROOT, 'models', 'fashion-mnist-mlp');
