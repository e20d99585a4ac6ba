import type { SessionView } from '@farm/contracts';
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, errorText, SIGNED_OUT_EVENT } from '../api';

/**
 * Shows the dashboard to a signed-in user, and a sign-in form to anyone else: the user pastes an
 * API token, which the API keeps in an HttpOnly session cookie. Any 401 later (signed out
 * elsewhere, token revoked) brings the form back.
 */
export function SessionGate({ children }: { children: ReactNode }) {
  // undefined: not known yet; null: signed out.
  const [session, setSession] = useState<SessionView | null>();
  useEffect(() => {
    const signedOut = () => setSession(null);
    window.addEventListener(SIGNED_OUT_EVENT, signedOut);
    api<SessionView>('/session').then(setSession, signedOut);
    return () => window.removeEventListener(SIGNED_OUT_EVENT, signedOut);
  }, []);
  if (session === undefined) return null;
  if (session === null) return <SignIn onSignedIn={setSession} />;
  const signOut = () => void api('/session', { method: 'DELETE' }).finally(() => setSession(null));
  return (
    <>
      {children}
      <div className="session" aria-label="Session">
        <span title={`token ${session.prefix}…`}>
          {session.name} ({session.role})
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </div>
    </>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (session: SessionView) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    api<SessionView>('/session', { method: 'POST', body: { token: token.trim() } }).then(onSignedIn, (failure: unknown) => setError(errorText(failure)));
  };
  return (
    <main className="sign-in">
      <h1>Sign in</h1>
      <p>
        Paste an API token. The API printed an admin token when it first started; an admin makes more with{' '}
        <code>npm run token -- create --role viewer</code>.
      </p>
      <form onSubmit={submit}>
        <label>
          API token
          <input type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} required />
        </label>
        <button type="submit">Sign in</button>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
