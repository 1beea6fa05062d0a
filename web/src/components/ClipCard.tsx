// One clip: its player (the presigned URL; refreshed with getClipUrl when it has expired or
// fails to load), its thumbnail as the poster (a placeholder where there is none), its facts
// and a download button (getClipUrl with download: R2 answers with Content-Disposition, so
// the browser saves it under the clip's file name).
import { useEffect, useRef, useState } from "react";
import type { Backend } from "../backend";
import { describeError, type ShownError } from "../errors";
import { formatDuration, styleLabel } from "../format";
import type { Clip } from "../types";
import { ErrorBanner } from "./ErrorBanner";

/** Refresh a URL this long before it expires. */
const EXPIRY_MARGIN_MS = 60_000;
/** After a refresh, a new load error is the clip's, not the URL's: do not loop. */
const MIN_REFRESH_INTERVAL_MS = 10_000;

/** The poster of a clip without a thumbnail: a grey frame saying so. */
const PLACEHOLDER_POSTER =
  "data:image/svg+xml," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="90" viewBox="0 0 160 90">' +
      '<rect width="160" height="90" fill="#dfe3e8"/>' +
      '<text x="80" y="50" font-family="sans-serif" font-size="12" fill="#4a5563" text-anchor="middle">No thumbnail</text>' +
      "</svg>",
  );

const STATUS_TEXT: Record<Clip["status"], string> = {
  completed: "Ready",
  processing: "Processing: not ready yet",
  pending: "Waiting to be processed",
  failed: "Processing failed",
};

interface Props {
  clip: Clip;
  videoId: string;
  expiresAt: string;
  backend: Backend;
}

export function ClipCard({ clip, videoId, expiresAt, backend }: Props) {
  const [src, setSrc] = useState({ url: clip.url, expiresAt });
  const [error, setError] = useState<ShownError | null>(null);
  const [downloading, setDownloading] = useState(false);
  const player = useRef<HTMLVideoElement>(null);
  const lastRefresh = useRef(0);
  const resume = useRef<{ time: number; play: boolean } | null>(null);
  const titleId = `clip-${clip.id}`;
  const playable = clip.status === "completed";

  async function refreshUrl(play: boolean) {
    const el = player.current;
    lastRefresh.current = Date.now();
    resume.current = { time: el?.currentTime ?? 0, play };
    try {
      const fresh = await backend.getClipUrl({ videoId, clipId: clip.id });
      setSrc({ url: fresh.url, expiresAt: fresh.expires_at });
      setError(null);
    } catch (e) {
      setError(describeError(e));
    }
  }

  function onPlay() {
    if (Date.parse(src.expiresAt) - Date.now() < EXPIRY_MARGIN_MS) {
      player.current?.pause();
      void refreshUrl(true);
    }
  }

  function onError() {
    if (Date.now() - lastRefresh.current < MIN_REFRESH_INTERVAL_MS) {
      setError({ code: "media", title: "This clip cannot be played.", detail: "" });
      return;
    }
    void refreshUrl(!player.current?.paused);
  }

  // A refreshed URL: with preload="none" nothing loads by itself, so start what was going on.
  // Keyed on the refresh, not on the URL: getClipUrl signs with one-second X-Amz-Date, so a
  // refresh within the second of the first signing returns the very same URL, React leaves
  // the src attribute alone, and the element would stay in its error state (play() rejects
  // with NotSupportedError there). load() re-runs the load algorithm on the current src.
  useEffect(() => {
    const el = player.current;
    const r = resume.current;
    if (!el || !r) return;
    if (!r.play && r.time === 0) {
      resume.current = null;
      return;
    }
    el.load();
    if (r.play) void el.play().catch(() => undefined);
  }, [src]);

  function onLoadedMetadata() {
    const el = player.current;
    const r = resume.current;
    if (!el || !r) return;
    resume.current = null;
    if (r.time > 0) el.currentTime = r.time;
  }

  async function download() {
    setDownloading(true);
    setError(null);
    try {
      const link = await backend.getClipUrl({ videoId, clipId: clip.id, download: true });
      const a = document.createElement("a");
      a.href = link.url;
      a.download = link.name;
      a.rel = "noopener";
      document.body.append(a);
      a.click();
      a.remove();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setDownloading(false);
    }
  }

  return (
    <li className="clip" aria-labelledby={titleId} data-clip-id={clip.id}>
      <div className="clip-media">
        {playable ? (
          <video
            ref={player}
            src={src.url}
            poster={clip.thumbnail ?? PLACEHOLDER_POSTER}
            controls
            preload="none"
            playsInline
            onPlay={onPlay}
            onError={onError}
            onLoadedMetadata={onLoadedMetadata}
            aria-label={`Play ${clip.title || clip.name}`}
          />
        ) : null}
        {!playable && (
          <div className="placeholder" aria-hidden="true">
            {STATUS_TEXT[clip.status]}
          </div>
        )}
      </div>
      <div className="clip-body">
        <h3 id={titleId}>{clip.title || `Scene ${clip.scene_id}`}</h3>
        {clip.description && <p className="clip-description">{clip.description}</p>}
        <p className="facts">
          <span className={`badge status-${clip.status}`}>{STATUS_TEXT[clip.status]}</span>
          <span className="badge">{styleLabel(clip.style)}</span>
          <span>{formatDuration(clip.duration)}</span>
          <span>{clip.size}</span>
          {!clip.thumbnail && <span className="muted">no thumbnail</span>}
        </p>
        <p className="file-name">
          <span className="visually-hidden">File name: </span>
          {clip.name}
        </p>
        {playable && (
          <button type="button" onClick={download} disabled={downloading}>
            {downloading ? "Preparing download…" : "Download"}
            <span className="visually-hidden"> {clip.name}</span>
          </button>
        )}
        <ErrorBanner error={error} />
      </div>
    </li>
  );
}
