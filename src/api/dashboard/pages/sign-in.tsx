import { CsrfField, Notice } from "../ui.tsx";

export function signInBody({ csrf, error, next }: { csrf: string; error?: string; next: string }) {
  return (
    <>
      {error ? <Notice kind="error">{error}</Notice> : null}
      <form class="stack" method="post" action="/dashboard/sign-in">
        <CsrfField token={csrf} />
        <input type="hidden" name="next" value={next} />
        <label>
          API token
          <input type="password" name="token" required autocomplete="current-password" spellcheck={false} autofocus />
        </label>
        <button type="submit">Sign in</button>
      </form>
      <p class="muted">
        Use a token from <code>ucledger token create --name NAME --role viewer|operator|admin</code>; in demo mode <code>npm start</code> prints an admin token.
        The token is kept in a cookie this browser sends only to this server, and your role decides what you can do.
      </p>
    </>
  );
}
