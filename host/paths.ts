// Where the package's built artefacts are, wherever it is installed (through the platform port).
import { platform } from './platform/index.js';

export const packageRoot = platform.toPath(new URL('../../', import.meta.url));
export const wasmPath = (name: string) => platform.toPath(platform.wasmUrl(name));
export const hostFile = (rel: string) => platform.hostUrl(rel);
