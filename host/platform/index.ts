// The platform this build runs on. A browser build maps this module to its own port (one file).
export { nodePlatform as platform } from './node.js';
export type { ParentPort, Platform, ThreadPort } from './port.js';
