/**
 * Pure planning: which listed keys form which video, and when a video is completely listed.
 *
 * Keys sort by video prefix (`users/{uid}/videos/{videoId}/`), and all keys sharing a prefix
 * are contiguous in a lexicographic listing, so a video's objects arrive as one run of
 * consecutive keys, possibly split across list pages. A video is complete only once a key of
 * another group (or the end of the listing) has been seen: never earlier.
 */
import { SEGMENT_PATTERN } from "../model/ids";
import { isVideo, videoPrefix, type LegacyObject } from "../storage/legacy-layout";

export interface VideoGroup {
  kind: "video";
  uid: string;
  videoId: string;
  prefix: string;
  objects: LegacyObject[];
  /** The greatest key of the group: the checkpoint once the video is handled. */
  lastKey: string;
  /**
   * More objects than the grouper holds per video (`holdAtMost`): `objects` is empty and whoever
   * handles the video lists its prefix again, page by page (the verification).
   */
  truncated?: boolean;
  /** With `truncated`: whether any of its keys is a clip, thumbnail, highlights or source. */
  recognized?: boolean;
}

/** Whether a group is a video (not only unrecognized keys), held whole or truncated. */
export function isVideoGroup(group: VideoGroup): boolean {
  return group.truncated ? group.recognized === true : isVideo(group.objects);
}

/** A key that belongs to no video (outside `users/{uid}/videos/{videoId}/`). */
export interface StrayObject {
  kind: "stray";
  object: LegacyObject;
  reason: string;
  lastKey: string;
}

export type PlanItem = VideoGroup | StrayObject;

/**
 * S3 lists keys in UTF-8 byte order, which differs from JavaScript's UTF-16 string order for
 * some non-ASCII file names: compare as S3 does.
 */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** The video a key belongs to, or a reason why it belongs to none. */
export function videoOfKey(key: string): { uid: string; videoId: string } | { reason: string } {
  const parts = key.split("/");
  if (parts.length < 5 || parts[0] !== "users" || parts[2] !== "videos") {
    return { reason: "not under users/{uid}/videos/{videoId}/" };
  }
  const uid = parts[1];
  const videoId = parts[3];
  if (!SEGMENT_PATTERN.test(uid))
    return { reason: "uid has characters outside [A-Za-z0-9_-] or is too long" };
  if (!SEGMENT_PATTERN.test(videoId))
    return { reason: "videoId has characters outside [A-Za-z0-9_-] or is too long" };
  return { uid, videoId };
}

export { isVideo };

/**
 * Groups a listing, fed page by page. `push` returns the items completed by the page; the
 * last group stays pending until a key of another group arrives or `end()` is called.
 */
export class ListingGrouper {
  private pending: VideoGroup | null = null;
  private lastSeen: string | null = null;

  /** `holdAtMost`: a video with more objects is passed on truncated (none held). */
  constructor(private readonly holdAtMost = Number.POSITIVE_INFINITY) {}

  push(objects: LegacyObject[]): PlanItem[] {
    const done: PlanItem[] = [];
    for (const object of objects) {
      if (this.lastSeen !== null && compareKeys(object.key, this.lastSeen) <= 0) {
        throw new Error(
          `listing is not in ascending key order: ${object.key} after ${this.lastSeen}`,
        );
      }
      this.lastSeen = object.key;
      const owner = videoOfKey(object.key);
      if ("reason" in owner) {
        if (this.pending) done.push(this.pending);
        this.pending = null;
        done.push({ kind: "stray", object, reason: owner.reason, lastKey: object.key });
        continue;
      }
      const prefix = videoPrefix(owner.uid, owner.videoId);
      if (this.pending && this.pending.prefix === prefix) {
        this.add(this.pending, object);
        continue;
      }
      if (this.pending) done.push(this.pending);
      this.pending = { kind: "video", ...owner, prefix, objects: [object], lastKey: object.key };
    }
    return done;
  }

  private add(group: VideoGroup, object: LegacyObject): void {
    group.lastKey = object.key;
    if (group.truncated) {
      group.recognized ||= isVideo([object]);
      return;
    }
    group.objects.push(object);
    if (group.objects.length > this.holdAtMost) {
      group.truncated = true;
      group.recognized = isVideo(group.objects);
      group.objects = [];
    }
  }

  /** The listing ended: the pending group is complete. */
  end(): PlanItem[] {
    const rest = this.pending ? [this.pending] : [];
    this.pending = null;
    return rest;
  }

  /** Whether a group is waiting for more keys. */
  get hasPending(): boolean {
    return this.pending !== null;
  }
}
