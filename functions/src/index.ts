/**
 * Wiring only (shared/STYLE.md point 1): app, global options, exports. Each function's
 * logic lives in its own module and takes its dependencies as arguments.
 */
import { initializeApp } from "firebase-admin/app";
import { setGlobalOptions } from "firebase-functions/v2";

initializeApp();
setGlobalOptions({ region: "us-central1", maxInstances: 20 });

export { onClipWritten } from "./triggers/on-clip-written";
export { recomputeVideoStats, repairRecentVideoStats } from "./api/recompute-video-stats";
export { listVideos } from "./api/list-videos";
export { getVideoInfo } from "./api/get-video-info";
export { getClipUrl } from "./api/get-clip-url";
export { registerClip } from "./api/register-clip";
export { setReadMode } from "./api/set-read-mode";
export { migrateLegacyVideos } from "./migration/migrate-legacy-videos";
export { runLegacyMigration } from "./migration/run-legacy-migration";
export { getMigrationStatus } from "./migration/get-migration-status";
export { migrateLegacyVideoTask } from "./migration/migrate-video-task";
