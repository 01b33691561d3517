// The Playground's state: what the person picked, changed only through the reducer, and the
// pure functions that turn it into a Cube query and the results into a chart's data.

import type { CubeQuery, FilterOperator, LoadResult, Meta, MetaMember, Row } from './api';

export interface FilterRow {
  member: string;
  operator: FilterOperator;
  /** The values as typed: comma separated. */
  values: string;
}

export interface OrderRow {
  member: string;
  direction: 'asc' | 'desc';
}

export interface PlaygroundState {
  measures: string[];
  dimensions: string[];
  timeDimension: string;
  granularity: string;
  /** As typed: "last 30 days", or "2024-01-01 to 2024-03-31". */
  dateRange: string;
  filters: FilterRow[];
  order: OrderRow[];
  /** As typed; empty means the server's default. */
  limit: string;
}

export const initialState: PlaygroundState = {
  measures: [],
  dimensions: [],
  timeDimension: '',
  granularity: '',
  dateRange: '',
  filters: [],
  order: [],
  limit: '100',
};

export type Action =
  | { type: 'toggleMeasure'; member: string }
  | { type: 'toggleDimension'; member: string }
  | { type: 'setTimeDimension'; member: string }
  | { type: 'setGranularity'; granularity: string }
  | { type: 'setDateRange'; dateRange: string }
  | { type: 'addFilter'; member: string }
  | { type: 'updateFilter'; index: number; patch: Partial<FilterRow> }
  | { type: 'removeFilter'; index: number }
  | { type: 'addOrder'; member: string }
  | { type: 'updateOrder'; index: number; patch: Partial<OrderRow> }
  | { type: 'removeOrder'; index: number }
  | { type: 'setLimit'; limit: string }
  | { type: 'reset'; state?: PlaygroundState };

function toggle(xs: string[], x: string): string[] {
  return xs.includes(x) ? xs.filter((y) => y !== x) : [...xs, x];
}

function replaceAt<T>(xs: T[], i: number, patch: Partial<T>): T[] {
  return xs.map((x, j) => (j === i ? { ...x, ...patch } : x));
}

/** selectedMembers are the members the query returns, which are the ones it can be ordered by. */
export function selectedMembers(s: PlaygroundState): string[] {
  return [...s.measures, ...s.dimensions, ...(s.timeDimension ? [s.timeDimension] : [])];
}

/** dropStaleOrder removes orderings by members no longer in the query. */
function dropStaleOrder(s: PlaygroundState): PlaygroundState {
  const keep = new Set(selectedMembers(s));
  const order = s.order.filter((o) => keep.has(o.member));
  return order.length === s.order.length ? s : { ...s, order };
}

export function reducer(s: PlaygroundState, a: Action): PlaygroundState {
  switch (a.type) {
    case 'toggleMeasure':
      return dropStaleOrder({ ...s, measures: toggle(s.measures, a.member) });
    case 'toggleDimension':
      return dropStaleOrder({ ...s, dimensions: toggle(s.dimensions, a.member) });
    case 'setTimeDimension':
      return dropStaleOrder({
        ...s,
        timeDimension: a.member,
        granularity: a.member === '' ? '' : s.granularity,
        dateRange: a.member === '' ? '' : s.dateRange,
      });
    case 'setGranularity':
      return { ...s, granularity: a.granularity };
    case 'setDateRange':
      return { ...s, dateRange: a.dateRange };
    case 'addFilter':
      return { ...s, filters: [...s.filters, { member: a.member, operator: 'equals', values: '' }] };
    case 'updateFilter':
      return { ...s, filters: replaceAt(s.filters, a.index, a.patch) };
    case 'removeFilter':
      return { ...s, filters: s.filters.filter((_, i) => i !== a.index) };
    case 'addOrder':
      return { ...s, order: [...s.order, { member: a.member, direction: 'desc' }] };
    case 'updateOrder':
      return { ...s, order: replaceAt(s.order, a.index, a.patch) };
    case 'removeOrder':
      return { ...s, order: s.order.filter((_, i) => i !== a.index) };
    case 'setLimit':
      return { ...s, limit: a.limit };
    case 'reset':
      return a.state ?? initialState;
  }
}

/** Operators that take no values. */
export const unaryOperators: ReadonlySet<FilterOperator> = new Set(['set', 'notSet']);

export const operators: { value: FilterOperator; label: string }[] = [
  { value: 'equals', label: 'equals' },
  { value: 'notEquals', label: 'does not equal' },
  { value: 'contains', label: 'contains' },
  { value: 'notContains', label: 'does not contain' },
  { value: 'startsWith', label: 'starts with' },
  { value: 'endsWith', label: 'ends with' },
  { value: 'gt', label: '>' },
  { value: 'gte', label: '≥' },
  { value: 'lt', label: '<' },
  { value: 'lte', label: '≤' },
  { value: 'set', label: 'is set' },
  { value: 'notSet', label: 'is not set' },
  { value: 'inDateRange', label: 'in date range' },
  { value: 'notInDateRange', label: 'not in date range' },
  { value: 'beforeDate', label: 'before date' },
  { value: 'afterDate', label: 'after date' },
];

export const standardGranularities = ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'];

/** splitValues splits "a, b,c" into ["a", "b", "c"], dropping empty pieces. */
export function splitValues(s: string): string[] {
  return s
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** parseDateRange reads "2024-01-01 to 2024-03-31" as a pair and anything else as Cube's relative text. */
export function parseDateRange(s: string): string | [string, string] | undefined {
  const t = s.trim();
  if (t === '') return undefined;
  const m = t.match(/^(\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+)?)\s*(?:to|–|—|,)\s*(\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+)?)$/i);
  if (m) return [m[1], m[2]];
  return t;
}

/** buildQuery turns the state into the query sent to /load, /sql and the snippets. */
export function buildQuery(s: PlaygroundState): CubeQuery {
  const q: CubeQuery = {};
  if (s.measures.length) q.measures = [...s.measures];
  if (s.dimensions.length) q.dimensions = [...s.dimensions];
  if (s.timeDimension) {
    const td: NonNullable<CubeQuery['timeDimensions']>[number] = { dimension: s.timeDimension };
    if (s.granularity) td.granularity = s.granularity;
    const dr = parseDateRange(s.dateRange);
    if (dr !== undefined) td.dateRange = dr;
    q.timeDimensions = [td];
  }
  const filters = s.filters
    .filter((f) => f.member !== '')
    .map((f) => (unaryOperators.has(f.operator) ? { member: f.member, operator: f.operator } : { member: f.member, operator: f.operator, values: splitValues(f.values) }));
  if (filters.length) q.filters = filters;
  if (s.order.length) q.order = s.order.map((o) => [o.member, o.direction]);
  const limit = Number.parseInt(s.limit, 10);
  if (s.limit.trim() !== '' && Number.isFinite(limit) && limit > 0) q.limit = limit;
  return q;
}

/** queryProblem says why a query cannot run yet, or null when it can. */
export function queryProblem(s: PlaygroundState): string | null {
  if (s.measures.length === 0 && s.dimensions.length === 0 && !s.timeDimension) {
    return 'Pick at least one measure or dimension.';
  }
  if (s.granularity && !s.timeDimension) return 'Pick a time dimension for the granularity.';
  for (const f of s.filters) {
    if (f.member === '') return 'Pick the member of each filter.';
    if (!unaryOperators.has(f.operator) && splitValues(f.values).length === 0) return `The filter on ${f.member} needs a value.`;
  }
  if (s.limit.trim() !== '' && !/^[1-9]\d*$/.test(s.limit.trim())) return 'The limit must be a positive whole number.';
  return null;
}

export interface MemberLists {
  measures: MetaMember[];
  dimensions: MetaMember[];
  timeDimensions: MetaMember[];
}

/** memberLists splits the meta's visible members into what the pickers offer. */
export function memberLists(meta: Meta | null | undefined): MemberLists {
  const out: MemberLists = { measures: [], dimensions: [], timeDimensions: [] };
  for (const c of meta?.cubes ?? []) {
    for (const m of c.measures) if (m.isVisible !== false) out.measures.push(m);
    for (const d of c.dimensions) {
      if (d.isVisible === false) continue;
      (d.type === 'time' ? out.timeDimensions : out.dimensions).push(d);
    }
  }
  return out;
}

/** granularitiesOf lists the standard granularities and the dimension's own. */
export function granularitiesOf(dim: MetaMember | undefined): { name: string; title: string }[] {
  const std = standardGranularities.map((g) => ({ name: g, title: g }));
  const own = (dim?.granularities ?? []).map((g) => ({ name: g.name, title: g.title ?? g.name }));
  return [...std, ...own.filter((g) => !standardGranularities.includes(g.name))];
}

export type ChartKind = 'line' | 'bar';

export interface ChartData {
  kind: ChartKind;
  labels: string[];
  datasets: { label: string; data: (number | null)[] }[];
}

/** chartKind: a line for a time series (a time dimension with a granularity), bars otherwise. */
export function chartKind(q: CubeQuery): ChartKind {
  return q.timeDimensions?.some((t) => t.granularity) ? 'line' : 'bar';
}

function titleOf(r: LoadResult | undefined, member: string): string {
  const a = r?.annotation;
  const t = a?.measures?.[member] ?? a?.dimensions?.[member] ?? a?.timeDimensions?.[member];
  return t?.shortTitle ?? t?.title ?? member;
}

function num(v: Row[string]): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

/** timeKey is the column a time dimension with a granularity comes back in. */
export function timeKey(q: CubeQuery): string | null {
  const td = q.timeDimensions?.find((t) => t.granularity);
  return td ? `${td.dimension}.${td.granularity}` : null;
}

/**
 * chartData lays the rows out for a chart: the x axis is the time (for a time series) or the
 * dimensions' values; one series per measure, and per value of the other dimensions when the
 * query has a time series and dimensions.
 */
export function chartData(q: CubeQuery, rows: Row[], result?: LoadResult): ChartData {
  const kind = chartKind(q);
  const measures = q.measures ?? [];
  const dims = q.dimensions ?? [];
  const tk = timeKey(q);
  const str = (v: Row[string]) => (v === null || v === undefined ? '∅' : String(v));
  if (kind === 'line' && tk) {
    const labels: string[] = [];
    const seen = new Map<string, number>();
    for (const r of rows) {
      const x = str(r[tk]).replace(/T00:00:00(\.000)?$/, '');
      if (!seen.has(x)) {
        seen.set(x, labels.length);
        labels.push(x);
      }
    }
    const series = new Map<string, (number | null)[]>();
    for (const r of rows) {
      const x = seen.get(str(r[tk]).replace(/T00:00:00(\.000)?$/, ''))!;
      const group = dims.map((d) => str(r[d])).join(', ');
      for (const m of measures) {
        const label = group ? `${titleOf(result, m)} (${group})` : titleOf(result, m);
        let data = series.get(label);
        if (!data) {
          data = new Array<number | null>(labels.length).fill(null);
          series.set(label, data);
        }
        data[x] = num(r[m]);
      }
    }
    return { kind, labels, datasets: [...series].map(([label, data]) => ({ label, data })) };
  }
  const labelCols = [...dims, ...(q.timeDimensions ?? []).filter((t) => t.granularity).map((t) => `${t.dimension}.${t.granularity}`)];
  const labels = rows.map((r, i) => (labelCols.length ? labelCols.map((c) => str(r[c])).join(', ') : `Row ${i + 1}`));
  return { kind, labels, datasets: measures.map((m) => ({ label: titleOf(result, m), data: rows.map((r) => num(r[m])) })) };
}

/** columnsOf is the table's columns, in the query's order. */
export function columnsOf(q: CubeQuery, rows: Row[]): string[] {
  const cols = [...(q.dimensions ?? [])];
  const tk = timeKey(q);
  if (tk) cols.unshift(tk);
  else for (const t of q.timeDimensions ?? []) if (rows[0] && t.dimension in rows[0]) cols.unshift(t.dimension);
  cols.push(...(q.measures ?? []));
  for (const k of Object.keys(rows[0] ?? {})) if (!cols.includes(k)) cols.push(k);
  return cols;
}

/**
 * erroredMember is the member an error is about: the one the REST error names, else the
 * longest member of the query that its message mentions (so the picker can mark it).
 */
export function erroredMember(message: string, named: string | undefined, q: CubeQuery): string | undefined {
  if (named) return named;
  const members = [
    ...(q.measures ?? []),
    ...(q.dimensions ?? []),
    ...(q.timeDimensions ?? []).map((t) => t.dimension),
    ...(q.filters ?? []).map((f) => f.member),
  ].sort((a, b) => b.length - a.length);
  return members.find((m) => new RegExp(`(^|[^\\w.])${m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\w.])`).test(message));
}
