// The image pipeline's flag grammars, apart from their parsers: the CLI shows them in --help
// without loading TF.js.

/** Grammar of `--param`, shown with every parse error. */
export const PARAM_GRAMMAR = 'param specs: pixel | sigmoid | spectral, with options after ":" like spectral:decay=1.5,decorrelate=no or sigmoid:decorrelate=yes,sd=0.5';
/** Grammar of `--transform`, shown with every parse error. */
export const TRANSFORM_GRAMMAR = 'transform specs (repeat the flag to chain them): jitter:PIXELS | pad:PIXELS | scale:MIN,MAX | rotate:DEGREES | standard | none';
/** Grammar of `--regularizer`, shown with every parse error. */
export const REGULARIZER_GRAMMAR = 'regularizer specs (repeatable): tv:W | l1:W | l2:W | blur:W (0–1, pixel param only) | diversity:W or diversity:W:LAYER | none';
