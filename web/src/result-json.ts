// The page's downloads use the CLI's result.json schema, from the library's browser-safe module.
export { targetJson, exactJson } from '../../src/io/result-json.js';
