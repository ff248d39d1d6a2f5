// A service's state in one line (the host's words), with the last request's
// error under it: the remote engine's and the app's API's, in Settings.
export function StatusLine({ testId, state, tone, text, error }: { testId: string; state: string; tone: string; text: string; error: string | null }) {
  return (
    <p className="small" role="status">
      <span data-testid={testId} data-state={state} className={tone}>
        {text}
      </span>
      {error !== null && (
        <>
          <br />
          <span className="error-text">{error}</span>
        </>
      )}
    </p>
  );
}
