// Where the package's built artefacts are, wherever it is installed (this file is dist/host/paths.js).
import { fileURLToPath } from 'node:url';

export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
export const wasmPath = (name: string) => fileURLToPath(new URL(`../../build/${name}.wasm`, import.meta.url));
export const hostFile = (rel: string) => new URL(`./${rel}`, import.meta.url);
