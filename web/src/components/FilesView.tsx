// Files: the branch's model files, one shown read-only with line numbers and the model's
// validation problems at their lines.

import { useEffect, useMemo, useState } from 'react';
import type { AdminClient, Problem } from '../api';

interface Props {
  client: AdminClient;
  project: string;
  branch: string;
  file: string;
  onFile: (path: string) => void;
  onError: (e: unknown) => void;
}

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function FilesView({ client, project, branch, file, onFile, onError }: Props) {
  const [files, setFiles] = useState<string[] | null>(null);
  const [problems, setProblems] = useState<Problem[] | null>(null);
  const [problemsError, setProblemsError] = useState<string | null>(null);
  const [content, setContent] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setFiles(null);
    setProblems(null);
    setProblemsError(null);
    setError(null);
    if (!project || !branch) return;
    let live = true;
    client.files(project, branch, 'model').then(
      (fs) => live && setFiles(fs),
      (e) => {
        if (!live) return;
        onError(e);
        setError(`Could not list the files: ${msg(e)}`);
      },
    );
    client.problems(project, branch).then(
      (ps) => live && setProblems(ps),
      (e) => {
        if (!live) return;
        onError(e);
        setProblemsError(`The validation problems are not available: ${msg(e)}`);
      },
    );
    return () => {
      live = false;
    };
  }, [client, project, branch, onError]);

  useEffect(() => {
    setContent(null);
    if (!project || !branch || !file) return;
    let live = true;
    client.file(project, branch, file).then(
      (c) => live && setContent(c),
      (e) => {
        if (!live) return;
        onError(e);
        setError(`Could not read ${file}: ${msg(e)}`);
      },
    );
    return () => {
      live = false;
    };
  }, [client, project, branch, file, onError]);

  const byFile = useMemo(() => {
    const m = new Map<string, Problem[]>();
    for (const p of problems ?? []) m.set(p.file, [...(m.get(p.file) ?? []), p]);
    return m;
  }, [problems]);

  if (!project || !branch) return <p>Select a project and a branch to see its model files.</p>;

  const here = byFile.get(file) ?? [];
  const lines = content?.split('\n') ?? [];
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();

  return (
    <div className="files">
      <nav className="files__list" aria-label="Model files">
        <h2>Files</h2>
        {files === null && !error && <p>Loading…</p>}
        {files?.length === 0 && <p>No files under model/.</p>}
        <ul>
          {files?.map((f) => {
            const n = byFile.get(f)?.length ?? 0;
            return (
              <li key={f}>
                <button type="button" className="file-button" aria-current={f === file ? 'true' : undefined} onClick={() => onFile(f)}>
                  {f.replace(/^model\//, '')}
                  {n > 0 && <span className="badge badge--error">{n === 1 ? '1 problem' : `${n} problems`}</span>}
                </button>
              </li>
            );
          })}
        </ul>
        {problems && problems.length === 0 && <p className="ok">The model compiles.</p>}
        {problemsError && <p className="hint">{problemsError}</p>}
        {problems && problems.length > 0 && (
          <section aria-labelledby="problems-title">
            <h3 id="problems-title">Problems</h3>
            <ul className="problems">
              {problems.map((p, i) => (
                <li key={i}>
                  <a
                    href={`#line-${p.line}`}
                    onClick={(e) => {
                      e.preventDefault();
                      onFile(p.file);
                      window.setTimeout(() => document.getElementById(`line-${p.line}`)?.scrollIntoView({ block: 'center' }), 50);
                    }}
                  >
                    {p.file}:{p.line}
                  </a>{' '}
                  {p.message}
                </li>
              ))}
            </ul>
          </section>
        )}
      </nav>
      <section className="files__view" aria-label={file ? `File ${file}` : 'File'}>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        {!file && <p>Pick a file to see it.</p>}
        {file && content === null && !error && <p>Loading {file}…</p>}
        {file && content !== null && (
          <>
            <h2 className="files__name">{file}</h2>
            <ol className="code" aria-label={`${file}, read-only`}>
              {lines.map((l, i) => {
                const ps = here.filter((p) => p.line === i + 1);
                return (
                  <li key={i} id={`line-${i + 1}`} className={ps.length ? 'code__line code__line--error' : 'code__line'}>
                    <span className="code__text">{l === '' ? '\u200b' : l}</span>
                    {ps.map((p, j) => (
                      <span key={j} className="code__problem" role="note">
                        Line {p.line}: {p.message}
                      </span>
                    ))}
                  </li>
                );
              })}
            </ol>
            {here
              .filter((p) => p.line < 1 || p.line > lines.length)
              .map((p, j) => (
                <p key={j} className="error">
                  {p.message}
                </p>
              ))}
          </>
        )}
      </section>
    </div>
  );
}
