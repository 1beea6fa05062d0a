import type { ShownError } from "../errors";

/** An error as a sentence, the server's message and its code; announced by screen readers. */
export function ErrorBanner({
  error,
  onRetry,
}: {
  error: ShownError | null;
  onRetry?: () => void;
}) {
  if (!error) return null;
  return (
    <div className="error" role="alert" data-code={error.code}>
      <p className="error-title">{error.title}</p>
      {error.detail && <p className="error-detail">{error.detail}</p>}
      <p className="error-code">
        <code>{error.code}</code>
        {onRetry && (
          <button type="button" className="link-button" onClick={onRetry}>
            Try again
          </button>
        )}
      </p>
    </div>
  );
}
