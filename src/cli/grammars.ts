// The --constraint and --prior grammars, apart from their parsers: the CLI shows them in --help
// without loading TF.js or the priors.

/** The constraint grammar, shown with every parse error. */
export const CONSTRAINT_GRAMMAR =
  'constraint specs: box:LO,HI | linf:REF_FILE,EPS | l2:REF_FILE,EPS | l1:REF_FILE,EPS | mask:FILE (JSON 0/1 array or PNG, white = editable) | ' +
  'levels:N | sum<=B | sum>=B | linear:FILE (JSON {"a":[…],"b":B}) | onehot:I,J,K (or I-K); prefix INPUT= to name a model input';

/** The `--prior` grammar, shown with every parse error. */
export const PRIOR_GRAMMAR =
  'prior specs: dataset[:subspace:K] (the prior stored with the model) | EXAMPLES[:subspace:K] (a folder of .png/.json/.csv inputs, or one JSON/CSV file of many) ' +
  'with options :box=LOW-HIGH (one percentile box, e.g. 0.5-99.5), :ball=R (Mahalanobis radius; pQ = the examples\' Q-th percentile norm) or :cluster=J (one cluster\'s box), :clusters=LOW-HIGH (the percentiles of every cluster\'s box), :near=R (the half-diagonal of the boxes around the clusters\' core examples, default 3); ' +
  'decoder:MODEL[:box=LO,HI|:box=0.5-99.5][:ball=R][:cluster=J][:clusters=LOW-HIGH][:near=R] (x = G(z); near= in latent units, default 1); default K = 32 and, where stored, z in one of the boxes around the clusters\' core examples, else in one of the clusters\' percentile boxes';
