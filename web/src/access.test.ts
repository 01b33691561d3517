import { describe, expect, test } from 'vitest';
import { credentialsBlocker, lifecycleButtons, playgroundBlocker } from './access';

describe('credentialsBlocker (the API Credentials tooltip)', () => {
  test.each([
    [{ project: '', branch: '', state: null }, 'Select a project first'],
    [{ project: '', branch: 'main', state: 'RUNNING' }, 'Select a project first'],
    [{ project: 'shop', branch: '', state: null }, 'Select a branch first'],
    [{ project: 'shop', branch: 'main', state: 'STOPPED' }, 'The deployment is STOPPED: start it to see its credentials'],
    [{ project: 'shop', branch: 'main', state: 'PENDING' }, 'The deployment is PENDING: wait until it is RUNNING to see its credentials'],
    [{ project: 'shop', branch: 'main', state: 'ERROR' }, 'The deployment is in ERROR: fix the error and restart it to see its credentials'],
    [{ project: 'shop', branch: 'main', state: null }, 'Waiting for the deployment status'],
    [{ project: 'shop', branch: 'main', state: 'RUNNING' }, null],
  ] as const)('%j → %s', (sel, want) => {
    expect(credentialsBlocker(sel)).toBe(want);
  });
});

describe('playgroundBlocker', () => {
  test('names the state', () => {
    expect(playgroundBlocker({ project: 'p', branch: 'b', state: 'STOPPED' })).toBe('The Playground needs the deployment RUNNING. The deployment is STOPPED: start it.');
    expect(playgroundBlocker({ project: '', branch: '', state: null })).toBe('Select a project first');
    expect(playgroundBlocker({ project: 'p', branch: 'b', state: 'RUNNING' })).toBeNull();
  });
});

describe('lifecycleButtons', () => {
  test('Start when stopped or failed, Stop when running or starting', () => {
    expect(lifecycleButtons('STOPPED')).toEqual({ start: true, stop: false });
    expect(lifecycleButtons('ERROR')).toEqual({ start: true, stop: false });
    expect(lifecycleButtons('RUNNING')).toEqual({ start: false, stop: true });
    expect(lifecycleButtons('PENDING')).toEqual({ start: false, stop: true });
    expect(lifecycleButtons(null)).toEqual({ start: false, stop: false });
  });
});
