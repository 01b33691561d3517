import { describe, expect, test } from 'vitest';
import { createBody, emptyForm, formOf, securityBody, updateBody, validate, validateSecurity } from './projectForm';

describe('validate', () => {
  test.each([
    ['', 'The name is required.'],
    ['a'.repeat(51), 'The name is at most 50 characters.'],
    ['bad name', "Use letters, digits, '-', '_' and '.' only."],
    ['ok-name_1.2', undefined],
  ])('name %j', (name, msg) => {
    expect(validate({ ...emptyForm, name, environment: 'demo' }, true).name).toBe(msg);
  });
  test('imported needs a URL; schedule needs cron fields', () => {
    const e = validate({ ...emptyForm, name: 'x', environment: '', repositoryType: 'imported', mode: 'scheduled', scheduleStart: '0 8 * *', timezone: '' }, true);
    expect(Object.keys(e).sort()).toEqual(['environment', 'repositoryUrl', 'scheduleStart', 'timezone']);
  });
  test('settings do not check the name', () => {
    expect(validate({ ...emptyForm, name: '', environment: 'demo' }, false)).toEqual({});
  });
  test('on demand needs a duration', () => {
    expect(validate({ ...emptyForm, name: 'x', environment: 'demo', mode: 'on_demand', idleTimeout: '15 minutes' }, true).idleTimeout).toBeDefined();
  });
});

describe('bodies', () => {
  test('create: managed, always on', () => {
    expect(createBody({ ...emptyForm, name: 'shop', environment: 'demo', protectedBranches: 'main, release ,' })).toEqual({
      name: 'shop',
      repository: { type: 'managed' },
      environment: 'demo',
      deployment: { mode: 'always_on' },
      protected_branches: ['main', 'release'],
    });
  });
  test('update: scheduled, and back through formOf', () => {
    const f = { ...emptyForm, name: 'shop', environment: 'demo', mode: 'scheduled' as const, timezone: 'Europe/Berlin' };
    const body = updateBody(f);
    expect(body).toEqual({
      environment: 'demo',
      deployment: { mode: 'scheduled', schedule: [{ start: '0 8 * * 1-5', end: '0 20 * * 1-5' }], timezone: 'Europe/Berlin' },
      protected_branches: [],
    });
    const back = formOf({ name: 'shop', repository: { type: 'managed' }, environment: 'demo', deployment: body.deployment!, protected_branches: [] });
    expect(back).toEqual(f);
  });
  test('security', () => {
    const f = { ipAllowList: '10.0.0.0/8, 127.0.0.1', requestsPerSecond: '5', burst: '10', tokenLifetime: '720h' };
    expect(validateSecurity(f)).toEqual({});
    expect(securityBody(f)).toEqual({ ip_allow_list: ['10.0.0.0/8', '127.0.0.1'], rate_limit: { requests_per_second: 5, burst: 10 }, token_lifetime: '720h' });
    expect(Object.keys(validateSecurity({ ...f, ipAllowList: 'nope', burst: '1.5' })).sort()).toEqual(['burst', 'ipAllowList']);
  });
});
