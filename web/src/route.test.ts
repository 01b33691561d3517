import { expect, test } from 'vitest';
import { formatRoute, parseRoute, tokenFromHash } from './route';

test('routes round-trip', () => {
  const r = { view: 'files' as const, project: 'shop', branch: 'feature/x', file: 'model/cubes/orders.yml' };
  expect(parseRoute(formatRoute(r))).toEqual(r);
  expect(formatRoute({ view: 'overview', project: '', branch: '', file: '' })).toBe('#/');
  expect(parseRoute('#/nope')).toEqual({ view: 'overview', project: '', branch: '', file: '' });
  expect(parseRoute('')).toEqual({ view: 'overview', project: '', branch: '', file: '' });
});

test('#token= is taken once', () => {
  expect(tokenFromHash('#token=abc%2Bdef')).toBe('abc+def');
  expect(tokenFromHash('#/playground')).toBeNull();
});
