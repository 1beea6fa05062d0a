import { useState } from "react";
import type { Backend } from "../backend";
import { ClipCard } from "../components/ClipCard";
import { ErrorBanner } from "../components/ErrorBanner";
import { PagerFooter } from "../components/PagerFooter";
import { formatBytes, formatDate, formatDuration, styleLabel } from "../format";
import { usePaged } from "../pages";
import { Link } from "../router";
import { CLIP_STATUSES, type Clip, type ClipStatus, type VideoInfo } from "../types";

const PAGE_SIZE = 6;

type StatusFilter = ClipStatus | "all";

/** A clip and the expiry of the URLs of the page it came with. */
interface PagedClip {
  clip: Clip;
  expiresAt: string;
}

export function VideoPage({ backend, videoId }: { backend: Backend; videoId: string }) {
  const [status, setStatus] = useState<StatusFilter>("all");
  const [style, setStyle] = useState("");
  const pages = usePaged<VideoInfo, PagedClip>(
    `${videoId}|${status}|${style}`,
    (cursor) =>
      backend.getVideoInfo({
        videoId,
        status,
        style: style || undefined,
        limit: PAGE_SIZE,
        cursor,
      }),
    (a) => a.clips.map((clip) => ({ clip, expiresAt: a.urls_expire_at })),
    (a) => a.next_cursor,
  );
  // The styles of the whole video stay offered while a filter narrows the clips.
  const [styles, setStyles] = useState<string[]>([]);
  const video = pages.latest;
  const known = video ? Object.keys(video.statistics.by_style).sort() : [];
  if (known.some((s) => !styles.includes(s))) setStyles([...new Set([...styles, ...known])].sort());

  return (
    <section aria-labelledby="page-title">
      <p>
        <Link href="/">← My videos</Link>
      </p>
      <h1 id="page-title" tabIndex={-1}>
        {video ? video.title || video.id : videoId}
      </h1>
      {video && <VideoFacts video={video} />}
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter clips">
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value as StatusFilter)}>
            <option value="all">All statuses</option>
            {CLIP_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Style
          <select value={style} onChange={(e) => setStyle(e.target.value)}>
            <option value="">All styles</option>
            {styles.map((s) => (
              <option key={s} value={s}>
                {styleLabel(s)}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ErrorBanner
        error={pages.error}
        onRetry={pages.items.length ? pages.loadMore : pages.reload}
      />
      {video && !pages.loading && pages.items.length === 0 && <p>No clips match these filters.</p>}
      <ul className="clips">
        {pages.items.map(({ clip, expiresAt }) => (
          <ClipCard
            key={clip.id}
            clip={clip}
            videoId={videoId}
            expiresAt={expiresAt}
            backend={backend}
          />
        ))}
      </ul>
      <PagerFooter pages={pages} noun="clips" />
    </section>
  );
}

function VideoFacts({ video }: { video: VideoInfo }) {
  const s = video.statistics;
  return (
    <>
      <p className="muted">
        {formatDate(video.created_at)} · {s.clip_count} clips: {s.by_status.completed} done,{" "}
        {s.by_status.failed} failed, {s.by_status.processing + s.by_status.pending} in progress ·{" "}
        {formatDuration(s.completed_duration_seconds)} · {formatBytes(s.completed_bytes)}
      </p>
      <p className="source muted" data-source={video.source}>
        {video.source === "r2"
          ? "Read from the legacy R2 layout (not migrated yet)"
          : video.migrated_from_r2
            ? "Read from Firestore (migrated from R2)"
            : "Read from Firestore"}
      </p>
    </>
  );
}
