import { describe, expect, test } from 'vitest';
import {
  buildQuery,
  chartData,
  chartKind,
  erroredMember,
  columnsOf,
  granularitiesOf,
  initialState,
  memberLists,
  parseDateRange,
  queryProblem,
  reducer,
  type Action,
  type PlaygroundState,
} from './playground';

const run = (...actions: Action[]): PlaygroundState => actions.reduce(reducer, initialState);

describe('reducer and buildQuery', () => {
  test('orders.count by orders.status', () => {
    const s = run({ type: 'toggleMeasure', member: 'orders.count' }, { type: 'toggleDimension', member: 'orders.status' });
    expect(buildQuery(s)).toEqual({ measures: ['orders.count'], dimensions: ['orders.status'], limit: 100 });
    expect(queryProblem(s)).toBeNull();
  });

  test('toggling twice removes the member and its ordering', () => {
    const s = run(
      { type: 'toggleMeasure', member: 'orders.count' },
      { type: 'toggleDimension', member: 'orders.status' },
      { type: 'addOrder', member: 'orders.status' },
      { type: 'updateOrder', index: 0, patch: { direction: 'asc' } },
    );
    expect(buildQuery(s).order).toEqual([['orders.status', 'asc']]);
    const t = reducer(s, { type: 'toggleDimension', member: 'orders.status' });
    expect(t.dimensions).toEqual([]);
    expect(t.order).toEqual([]);
    expect(buildQuery(t)).toEqual({ measures: ['orders.count'], limit: 100 });
  });

  test('a time dimension with granularity and date range', () => {
    const s = run(
      { type: 'toggleMeasure', member: 'orders.count' },
      { type: 'setTimeDimension', member: 'orders.created_at' },
      { type: 'setGranularity', granularity: 'month' },
      { type: 'setDateRange', dateRange: '2024-01-01 to 2024-06-30' },
      { type: 'setLimit', limit: '' },
    );
    expect(buildQuery(s)).toEqual({
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month', dateRange: ['2024-01-01', '2024-06-30'] }],
    });
    const cleared = reducer(s, { type: 'setTimeDimension', member: '' });
    expect(cleared.granularity).toBe('');
    expect(cleared.dateRange).toBe('');
    expect(buildQuery(cleared).timeDimensions).toBeUndefined();
  });

  test('filters: values split on commas, set takes none, empty members are dropped', () => {
    const s = run(
      { type: 'toggleMeasure', member: 'orders.count' },
      { type: 'addFilter', member: 'orders.status' },
      { type: 'updateFilter', index: 0, patch: { values: 'completed, shipped ,' } },
      { type: 'addFilter', member: 'orders.coupon_code' },
      { type: 'updateFilter', index: 1, patch: { operator: 'set', values: 'ignored' } },
      { type: 'addFilter', member: 'orders.amount' },
      { type: 'updateFilter', index: 2, patch: { operator: 'gt', values: '10' } },
      { type: 'removeFilter', index: 2 },
    );
    expect(buildQuery(s).filters).toEqual([
      { member: 'orders.status', operator: 'equals', values: ['completed', 'shipped'] },
      { member: 'orders.coupon_code', operator: 'set' },
    ]);
  });

  test('queryProblem explains what is missing', () => {
    expect(queryProblem(initialState)).toBe('Pick at least one measure or dimension.');
    const s = run({ type: 'toggleMeasure', member: 'orders.count' }, { type: 'addFilter', member: 'orders.status' });
    expect(queryProblem(s)).toBe('The filter on orders.status needs a value.');
    expect(queryProblem(run({ type: 'toggleMeasure', member: 'm' }, { type: 'setLimit', limit: '-3' }))).toBe('The limit must be a positive whole number.');
  });

  test('reset', () => {
    const s = run({ type: 'toggleMeasure', member: 'x' }, { type: 'reset' });
    expect(s).toEqual(initialState);
  });
});

describe('parseDateRange', () => {
  test.each([
    ['', undefined],
    ['last 30 days', 'last 30 days'],
    ['2024-01-01 to 2024-02-01', ['2024-01-01', '2024-02-01']],
    ['2024-01-01,2024-02-01', ['2024-01-01', '2024-02-01']],
    ['  this year ', 'this year'],
  ])('%j', (input, want) => {
    expect(parseDateRange(input)).toEqual(want);
  });
});

describe('chartData', () => {
  test('bars for dimensions: one label per row, one series per measure', () => {
    const q = { measures: ['orders.count'], dimensions: ['orders.status'] };
    const rows = [
      { 'orders.status': 'completed', 'orders.count': '61826' },
      { 'orders.status': 'shipped', 'orders.count': '11869' },
    ];
    expect(chartKind(q)).toBe('bar');
    const result = { query: q, data: rows, annotation: { measures: { 'orders.count': { shortTitle: 'Count' } }, dimensions: {}, timeDimensions: {} } };
    expect(chartData(q, rows, result)).toEqual({ kind: 'bar', labels: ['completed', 'shipped'], datasets: [{ label: 'Count', data: [61826, 11869] }] });
  });

  test('a line per dimension value for a time series', () => {
    const q = { measures: ['m'], dimensions: ['d'], timeDimensions: [{ dimension: 't', granularity: 'month' }] };
    const rows = [
      { 't.month': '2024-01-01T00:00:00.000', d: 'a', m: 1 },
      { 't.month': '2024-01-01T00:00:00.000', d: 'b', m: 2 },
      { 't.month': '2024-02-01T00:00:00.000', d: 'a', m: 3 },
    ];
    expect(chartKind(q)).toBe('line');
    expect(chartData(q, rows)).toEqual({
      kind: 'line',
      labels: ['2024-01-01', '2024-02-01'],
      datasets: [
        { label: 'm (a)', data: [1, 3] },
        { label: 'm (b)', data: [2, null] },
      ],
    });
  });

  test('columnsOf puts the time first and measures last', () => {
    const q = { measures: ['m'], dimensions: ['d'], timeDimensions: [{ dimension: 't', granularity: 'day' }] };
    expect(columnsOf(q, [{ m: 1, d: 'x', 't.day': 'z', t: 'z' }])).toEqual(['t.day', 'd', 'm', 't']);
  });
});

describe('meta', () => {
  test('memberLists splits time dimensions and hides invisible members', () => {
    const l = memberLists({
      cubes: [
        {
          name: 'o',
          type: 'cube',
          measures: [{ name: 'o.n', type: 'number' }, { name: 'o.h', type: 'number', isVisible: false }],
          dimensions: [{ name: 'o.s', type: 'string' }, { name: 'o.t', type: 'time', granularities: [{ name: 'fy', title: 'Fiscal year' }] }],
          segments: [],
        },
      ],
    });
    expect(l.measures.map((m) => m.name)).toEqual(['o.n']);
    expect(l.dimensions.map((m) => m.name)).toEqual(['o.s']);
    expect(l.timeDimensions.map((m) => m.name)).toEqual(['o.t']);
    expect(granularitiesOf(l.timeDimensions[0]).at(-1)).toEqual({ name: 'fy', title: 'Fiscal year' });
  });
});

describe('erroredMember', () => {
  const q = { measures: ['orders.count', 'orders.count_distinct'], filters: [{ member: 'orders.amount', operator: 'equals' as const, values: ['abc'] }] };
  test('the member the error names wins', () => {
    expect(erroredMember('anything', 'orders.x', q)).toBe('orders.x');
  });
  test('else the member of the query the message mentions, whole names only', () => {
    expect(erroredMember('filter value "abc" for orders.amount is not a number', undefined, q)).toBe('orders.amount');
    expect(erroredMember('Operator contains needs a string member, and orders.count is not a string', undefined, q)).toBe('orders.count');
    expect(erroredMember('orders.count_distinct is bad', undefined, q)).toBe('orders.count_distinct');
    expect(erroredMember('nothing here', undefined, q)).toBeUndefined();
  });
});
