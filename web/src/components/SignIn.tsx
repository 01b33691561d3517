import { useId, useState } from 'react';

export function SignIn({ onSignIn, error }: { onSignIn: (token: string) => Promise<void>; error: string | null }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const errId = useId();
  return (
    <main className="signin">
      <form
        className="card"
        onSubmit={async (e) => {
          e.preventDefault();
          if (!token.trim()) return;
          setBusy(true);
          await onSignIn(token.trim());
          setBusy(false);
        }}
      >
        <h1>
          <span className="brand__mark" aria-hidden="true">◆</span> Cubit
        </h1>
        <p>Sign in with an admin token (printed by the first start of <code>cubit serve</code>, or set with CUBIT_ADMIN_TOKEN).</p>
        <label htmlFor="admin-token">Admin token</label>
        <input
          id="admin-token"
          type="password"
          autoComplete="current-password"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? errId : undefined}
          required
          autoFocus
        />
        {error && (
          <p id={errId} className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
