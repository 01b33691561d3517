// Hash routing: #/playground?project=shop&branch=main. The hash keeps every path the server
// sees at /, and a link names the view and the selection.

export type View = 'overview' | 'playground' | 'files';

export interface Route {
  view: View;
  project: string;
  branch: string;
  /** The file open in the Files view. */
  file: string;
}

const views: Record<string, View> = { '': 'overview', overview: 'overview', playground: 'playground', files: 'files' };

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, '');
  const [path, qs = ''] = h.split('?', 2);
  const p = new URLSearchParams(qs);
  const view = views[path.replace(/^\/+|\/+$/g, '')] ?? 'overview';
  return { view, project: p.get('project') ?? '', branch: p.get('branch') ?? '', file: p.get('file') ?? '' };
}

export function formatRoute(r: Route): string {
  const p = new URLSearchParams();
  if (r.project) p.set('project', r.project);
  if (r.branch) p.set('branch', r.branch);
  if (r.file && r.view === 'files') p.set('file', r.file);
  const qs = p.toString();
  return `#/${r.view === 'overview' ? '' : r.view}${qs ? '?' + qs : ''}`;
}

/** tokenFromHash takes a one-time #token=<t> (for links and tests): the token, or null. */
export function tokenFromHash(hash: string): string | null {
  const m = hash.match(/^#token=([^&]+)/);
  return m ? decodeURIComponent(m[1]) : null;
}
