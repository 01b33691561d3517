import { useEffect, useRef, useState } from 'react';
import { copyText } from '../clipboard';

/** CopyButton copies text; its accessible name is "Copy <what>" (shown in full, or as "Copy" beside what it copies), and "Copied" is announced. */
export function CopyButton({ what, text, full = false }: { what: string; text: string; full?: boolean }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  const copy = async () => {
    try {
      await copyText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setState('idle'), 2000);
  };
  return (
    <span className="copy">
      <button type="button" className="small" onClick={copy} aria-label={full ? undefined : `Copy ${what}`}>
        {full ? `Copy ${what}` : 'Copy'}
      </button>
      <span className="copy__feedback" aria-live="polite">
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select the text and copy it' : ''}
      </span>
    </span>
  );
}
