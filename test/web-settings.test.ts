import { describe, expect, it } from 'vitest';
import { DEFAULTS, decodeMask, encodeMask, settingsFromQuery, settingsToQuery, type Settings } from '../web/src/settings.js';

describe('web playground settings in the URL', () => {
  it('round-trips every setting through the query string', () => {
    const mask = Array.from({ length: 784 }, (_, i) => (i * 7) % 3 === 0);
    const s: Settings = {
      objective: 'logit:3-0.5*logit:5', steps: 321, restarts: 7, optimizer: 'sign', lr: 0.003, seed: 42, backend: 'wasm', threads: 3,
      lo: -1, hi: 2.5, ref: 'ex:7', eps: 0.25, norm: '2', mask, levels: 16, exactTime: 90, prior: 'subspace', priorK: 12, engine: 'tfjs',
    };
    const back = settingsFromQuery(settingsToQuery(s));
    expect(back).toEqual(s);
  });

  it('keeps links short: defaults are left out', () => {
    expect(settingsToQuery({ ...DEFAULTS, objective: 'logit:1' })).toBe('obj=logit%3A1');
  });

  it('ignores malformed values instead of failing, keeping the defaults', () => {
    const s = settingsFromQuery('?steps=-3&restarts=0&opt=rmsprop&lr=-1&seed=1.5&backend=gpu&threads=5&ref=../x&norm=3&mask=zz&levels=1&eps=abc&xt=-5');
    expect(s).toEqual({ ...DEFAULTS });
    expect(settingsFromQuery('?prior=subspace:99')).toEqual({ ...DEFAULTS, prior: 'subspace' });
    expect(settingsFromQuery('?prior=gan')).toEqual({ ...DEFAULTS });
    expect(settingsFromQuery('?threads=0.5')).toEqual({ ...DEFAULTS });
  });

  it('names the data prior in the link: subspace with its K, or the decoder', () => {
    expect(settingsToQuery({ ...DEFAULTS, prior: 'subspace', priorK: 8 })).toBe('obj=logit%3A0&prior=subspace%3A8');
    expect(settingsFromQuery('?prior=decoder')).toEqual({ ...DEFAULTS, prior: 'decoder' });
  });

  it('encodes masks as a length-prefixed bitset and rejects a wrong length', () => {
    const m = [true, false, false, true, true, false, true, false, true];
    const text = encodeMask(m);
    expect(text).toMatch(/^9\.[A-Za-z0-9_-]+$/);
    expect(decodeMask(text)).toEqual(m);
    expect(decodeMask('17.' + text.split('.')[1])).toBeNull();
    expect(decodeMask('nonsense')).toBeNull();
  });
});
