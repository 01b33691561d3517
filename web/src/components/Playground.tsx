// The Playground: build a query from the deployment's /meta, run it on /load, see the rows
// as a table and a chart, the SQL it compiles to (/sql) and the query as JSON or curl.

import { lazy, Suspense, useEffect, useMemo, useReducer, useState } from 'react';
import { ApiError, DeploymentClient, type AdminClient, type CubeQuery, type LoadResult, type Meta, type MetaMember } from '../api';
import { useCredentials } from '../hooks';
import {
  buildQuery,
  chartData,
  columnsOf,
  erroredMember,
  granularitiesOf,
  initialState,
  memberLists,
  operators,
  queryProblem,
  reducer,
  selectedMembers,
  unaryOperators,
} from '../playground';
import { curlLoad } from '../snippets';
import { CopyButton } from './CopyButton';

const ResultChart = lazy(() => import('./ResultChart'));

interface Props {
  client: AdminClient;
  project: string;
  branch: string;
  /** Why the Playground cannot query (the deployment is not RUNNING), or null. */
  blocker: string | null;
  onError: (e: unknown) => void;
}

interface RunError {
  message: string;
  member?: string;
}

interface Run {
  query: CubeQuery;
  result?: LoadResult;
  sql?: { text: string; params: unknown[] };
  sqlError?: string;
  error?: RunError;
}

function MemberChecks({ legend, members, selected, invalid, onToggle }: { legend: string; members: MetaMember[]; selected: string[]; invalid?: string; onToggle: (m: string) => void }) {
  return (
    <fieldset className="members">
      <legend>
        {legend} <span className="hint">({selected.length} selected)</span>
      </legend>
      <div className="members__list">
        {members.length === 0 && <p className="hint">None match.</p>}
        {members.map((m) => (
          <label key={m.name} className="check" title={m.title}>
            <input type="checkbox" checked={selected.includes(m.name)} onChange={() => onToggle(m.name)} aria-invalid={invalid === m.name ? 'true' : undefined} />
            {m.name}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export default function Playground({ client, project, branch, blocker, onError }: Props) {
  const { creds, error: credsError } = useCredentials(client, project, branch, blocker === null, onError);
  const [meta, setMeta] = useState<Meta | null>(null);
  const [metaError, setMetaError] = useState<string | null>(null);
  const [state, dispatch] = useReducer(reducer, initialState);
  const [search, setSearch] = useState('');
  const [run, setRun] = useState<Run | null>(null);
  const [running, setRunning] = useState(false);

  const api = useMemo(() => (creds ? new DeploymentClient(creds.rest.base_url, creds.rest.token) : null), [creds]);

  useEffect(() => {
    setMeta(null);
    setMetaError(null);
    if (!api) return;
    let live = true;
    api.meta().then(
      (m) => live && setMeta(m),
      (e) => live && setMetaError(`Could not read the model (/meta): ${e instanceof Error ? e.message : String(e)}`),
    );
    return () => {
      live = false;
    };
  }, [api]);

  useEffect(() => {
    dispatch({ type: 'reset' });
    setRun(null);
  }, [project, branch]);

  const lists = useMemo(() => memberLists(meta), [meta]);
  const filterList = (ms: MetaMember[]) => {
    const q = search.trim().toLowerCase();
    return q ? ms.filter((m) => m.name.toLowerCase().includes(q) || (m.title ?? '').toLowerCase().includes(q)) : ms;
  };
  const allMembers = useMemo(() => [...lists.dimensions, ...lists.timeDimensions, ...lists.measures].map((m) => m.name), [lists]);
  const query = buildQuery(state);
  const problem = queryProblem(state);
  const timeDim = lists.timeDimensions.find((d) => d.name === state.timeDimension);

  if (!project || !branch) return <p>{blocker ?? 'Select a project and a branch.'}</p>;
  if (blocker)
    return (
      <p className="notice-block" role="status">
        {blocker}
      </p>
    );
  if (credsError)
    return (
      <p className="error" role="alert">
        {credsError}
      </p>
    );
  if (metaError)
    return (
      <p className="error" role="alert">
        {metaError}
      </p>
    );
  if (!creds || !meta) return <p>Loading the model…</p>;

  const execute = async () => {
    if (!api || problem || running) return;
    const q = query;
    setRunning(true);
    const next: Run = { query: q };
    const [load, sql] = await Promise.allSettled([api.load(q), api.sql(q)]);
    if (load.status === 'fulfilled') next.result = load.value;
    else {
      const e = load.reason;
      onError(e);
      const message = e instanceof Error ? e.message : String(e);
      next.error = { message, member: erroredMember(message, e instanceof ApiError ? e.member : undefined, q) };
    }
    if (sql.status === 'fulfilled') next.sql = { text: sql.value.sql.sql[0], params: sql.value.sql.sql[1] };
    else next.sqlError = sql.reason instanceof Error ? sql.reason.message : String(sql.reason);
    setRun(next);
    setRunning(false);
  };

  const rows = run?.result?.data ?? [];
  const cols = run?.result ? columnsOf(run.query, rows) : [];
  const chart = run?.result && rows.length > 0 && (run.query.measures?.length ?? 0) > 0 ? chartData(run.query, rows, run.result) : null;

  return (
    <div className="playground">
      <form
        className="builder"
        aria-label="Query"
        onSubmit={(e) => {
          e.preventDefault();
          void execute();
        }}
      >
        <div className="form-field">
          <label htmlFor="member-search">Search members</label>
          <input id="member-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="e.g. orders" />
        </div>
        <MemberChecks legend="Measures" members={filterList(lists.measures)} selected={state.measures} invalid={run?.error?.member} onToggle={(m) => dispatch({ type: 'toggleMeasure', member: m })} />
        <MemberChecks legend="Dimensions" members={filterList(lists.dimensions)} selected={state.dimensions} invalid={run?.error?.member} onToggle={(m) => dispatch({ type: 'toggleDimension', member: m })} />
        <fieldset>
          <legend>Time</legend>
          <div className="form-field">
            <label htmlFor="time-dimension">Time dimension</label>
            <select id="time-dimension" value={state.timeDimension} onChange={(e) => dispatch({ type: 'setTimeDimension', member: e.target.value })}>
              <option value="">None</option>
              {lists.timeDimensions.map((d) => (
                <option key={d.name} value={d.name}>
                  {d.name}
                </option>
              ))}
            </select>
          </div>
          <div className="form-row">
            <div className="form-field">
              <label htmlFor="granularity">Granularity</label>
              <select id="granularity" value={state.granularity} disabled={!state.timeDimension} onChange={(e) => dispatch({ type: 'setGranularity', granularity: e.target.value })}>
                <option value="">None</option>
                {granularitiesOf(timeDim).map((g) => (
                  <option key={g.name} value={g.name}>
                    {g.title}
                  </option>
                ))}
              </select>
            </div>
            <div className="form-field">
              <label htmlFor="date-range">Date range</label>
              <input
                id="date-range"
                value={state.dateRange}
                disabled={!state.timeDimension}
                onChange={(e) => dispatch({ type: 'setDateRange', dateRange: e.target.value })}
                placeholder="last 30 days, or 2024-01-01 to 2024-03-31"
              />
            </div>
          </div>
        </fieldset>
        <fieldset>
          <legend>Filters</legend>
          {state.filters.map((f, i) => (
            <div className="row" key={i}>
              <select aria-label={`Filter ${i + 1} member`} value={f.member} aria-invalid={run?.error?.member && run.error.member === f.member ? 'true' : undefined} onChange={(e) => dispatch({ type: 'updateFilter', index: i, patch: { member: e.target.value } })}>
                <option value="">Member…</option>
                {allMembers.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
              <select aria-label={`Filter ${i + 1} operator`} value={f.operator} onChange={(e) => dispatch({ type: 'updateFilter', index: i, patch: { operator: e.target.value as typeof f.operator } })}>
                {operators.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
              {!unaryOperators.has(f.operator) && (
                <input aria-label={`Filter ${i + 1} values`} value={f.values} placeholder="values, comma separated" onChange={(e) => dispatch({ type: 'updateFilter', index: i, patch: { values: e.target.value } })} />
              )}
              <button type="button" className="small" aria-label={`Remove filter ${i + 1}`} onClick={() => dispatch({ type: 'removeFilter', index: i })}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" className="small" onClick={() => dispatch({ type: 'addFilter', member: state.dimensions[0] ?? '' })}>
            Add filter
          </button>
        </fieldset>
        <fieldset>
          <legend>Order and limit</legend>
          {state.order.map((o, i) => (
            <div className="row" key={i}>
              <select aria-label={`Order ${i + 1} member`} value={o.member} onChange={(e) => dispatch({ type: 'updateOrder', index: i, patch: { member: e.target.value } })}>
                {selectedMembers(state).map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
              <select aria-label={`Order ${i + 1} direction`} value={o.direction} onChange={(e) => dispatch({ type: 'updateOrder', index: i, patch: { direction: e.target.value as 'asc' | 'desc' } })}>
                <option value="asc">ascending</option>
                <option value="desc">descending</option>
              </select>
              <button type="button" className="small" aria-label={`Remove order ${i + 1}`} onClick={() => dispatch({ type: 'removeOrder', index: i })}>
                Remove
              </button>
            </div>
          ))}
          <button
            type="button"
            className="small"
            aria-disabled={selectedMembers(state).length === 0 ? 'true' : undefined}
            title={selectedMembers(state).length === 0 ? 'Pick a member first' : undefined}
            onClick={() => {
              const first = selectedMembers(state).find((m) => !state.order.some((o) => o.member === m));
              if (first) dispatch({ type: 'addOrder', member: first });
            }}
          >
            Add order
          </button>
          <div className="form-field narrow">
            <label htmlFor="limit">Limit</label>
            <input id="limit" inputMode="numeric" value={state.limit} onChange={(e) => dispatch({ type: 'setLimit', limit: e.target.value })} />
          </div>
        </fieldset>
        {problem && <p className="hint">{problem}</p>}
        <div className="buttons sticky">
          <button type="submit" className="primary" aria-disabled={problem || running ? 'true' : undefined} title={problem ?? undefined}>
            {running ? 'Running…' : 'Run query'}
          </button>
          <CopyButton full what="as curl" text={curlLoad(creds.rest.base_url, creds.rest.token, query)} />
          <CopyButton full what="as JSON" text={JSON.stringify(query, null, 2)} />
        </div>
      </form>
      <section className="results" aria-label="Results" aria-busy={running}>
        {!run && <p className="hint">Pick measures and dimensions, then Run query.</p>}
        {run?.error && (
          <div className="error" role="alert">
            {run.error.member ? (
              <>
                <strong>{run.error.member}</strong>: {run.error.message}
              </>
            ) : (
              run.error.message
            )}
          </div>
        )}
        {run?.result && (
          <>
            {chart && (
              <Suspense fallback={<p>Loading the chart…</p>}>
                <ResultChart data={chart} />
              </Suspense>
            )}
            <div className="table-wrap">
              <table className="data">
                <caption>
                  Results: {rows.length} {rows.length === 1 ? 'row' : 'rows'}
                  {run.result.truncated ? ' (cut by the limit)' : ''}
                </caption>
                <thead>
                  <tr>
                    {cols.map((c) => (
                      <th key={c} scope="col">
                        {c}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r, i) => (
                    <tr key={i}>
                      {cols.map((c) => (
                        <td key={c} className={typeof r[c] === 'number' || /^-?\d+(\.\d+)?$/.test(String(r[c] ?? '')) ? 'num' : undefined}>
                          {r[c] === null || r[c] === undefined ? '∅' : String(r[c])}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
        {run && (
          <>
            <section aria-labelledby="sql-title">
              <h3 id="sql-title">Generated SQL</h3>
              {run.sql ? (
                <>
                  <pre className="sql" tabIndex={0}>
                    {run.sql.text}
                  </pre>
                  {run.sql.params.length > 0 && <p className="hint">Parameters: {JSON.stringify(run.sql.params)}</p>}
                </>
              ) : (
                <p className="hint">{run.sqlError ?? '—'}</p>
              )}
            </section>
            <section aria-labelledby="json-title">
              <h3 id="json-title">JSON query</h3>
              <pre className="json" tabIndex={0}>
                {JSON.stringify(run.query, null, 2)}
              </pre>
            </section>
          </>
        )}
      </section>
    </div>
  );
}
