// The page's downloads are the CLI's result.json document (one shape: run fields, then results).
export { runJson, exactRunJson } from 'actmax/browser';
