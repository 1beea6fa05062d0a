import type { Backend } from "../backend";
import { ErrorBanner } from "../components/ErrorBanner";
import { PagerFooter } from "../components/PagerFooter";
import { formatBytes, formatDate, formatDuration } from "../format";
import { usePaged } from "../pages";
import { Link, videoPath } from "../router";
import type { Video, VideoList as VideoListAnswer } from "../types";

const PAGE_SIZE = 10;

export function VideoList({ backend }: { backend: Backend }) {
  const pages = usePaged<VideoListAnswer, Video>(
    "videos",
    (cursor) => backend.listVideos({ limit: PAGE_SIZE, cursor }),
    (a) => a.videos,
    (a) => a.next_cursor,
  );
  const empty = !pages.loading && !pages.error && pages.items.length === 0;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        My videos
      </h1>
      {empty && <p>No videos yet.</p>}
      <IncompleteNotice answer={pages.latest} onReload={pages.reload} />
      <ul className="video-list">
        {pages.items.map((v) => (
          <VideoRow key={v.id} video={v} />
        ))}
      </ul>
      <ErrorBanner
        error={pages.error}
        onRetry={pages.items.length ? pages.loadMore : pages.reload}
      />
      <PagerFooter pages={pages} noun="videos" />
    </section>
  );
}

/**
 * listVideos says when its walk may miss legacy videos not migrated yet: R2 did not answer,
 * or the user's legacy index is still being built (a task is on it; a later walk finds them).
 */
function IncompleteNotice({
  answer,
  onReload,
}: {
  answer: VideoListAnswer | null;
  onReload: () => void;
}) {
  if (!answer?.legacy_partial && !answer?.r2_unavailable) return null;
  return (
    <div
      className="notice"
      role="status"
      data-incomplete={answer.r2_unavailable ? "r2" : "index"}
    >
      <p>
        {answer.r2_unavailable
          ? "Older videos could not be read just now: some may be missing or untitled."
          : "Older videos are still being prepared: some may be missing for a minute or two."}
      </p>
      <button type="button" onClick={onReload}>
        Reload the list
      </button>
    </div>
  );
}

function VideoRow({ video }: { video: Video }) {
  const s = video.statistics;
  return (
    <li className="video-row" data-video-id={video.id}>
      <h2>
        <Link href={videoPath(video.id)}>{video.title || video.id}</Link>
      </h2>
      <p className="muted">
        {formatDate(video.created_at)}
        <span className="source" title="Where this answer was read from">
          {" "}
          · {video.source === "r2" ? "legacy R2" : "Firestore"}
        </span>
      </p>
      <dl className="stats">
        <div>
          <dt>Clips done</dt>
          <dd>{s.by_status.completed}</dd>
        </div>
        <div>
          <dt>Failed</dt>
          <dd>{s.by_status.failed}</dd>
        </div>
        <div>
          <dt>Total duration</dt>
          <dd>{formatDuration(s.completed_duration_seconds)}</dd>
        </div>
        <div>
          <dt>Size</dt>
          <dd>{formatBytes(s.completed_bytes)}</dd>
        </div>
      </dl>
    </li>
  );
}
