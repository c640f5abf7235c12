// actmax's public API for Node: everything in api.ts (shared with the browser entry) plus what
// needs the file system.
export * from './api.js';
export { writeImageFiles } from './image/files.js';
export { writeRunFiles } from './io/results.js';
