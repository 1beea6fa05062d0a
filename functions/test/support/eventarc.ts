// The tests' Eventarc (scripts/lib/eventarc.cjs, shared with the bridge of `npm start`): clip
// writes recorded as the raw CloudEvents production sends, delivered to the real onClipWritten
// (firebase-functions decodes the protobuf payload and extracts the params from `document`).
//
// The Firestore server runs in the test runner's parent process, so its commit events are not
// visible here: the harness makes the writes itself. It serializes the writes of each clip (not
// of different clips), so the snapshot it reads just before a write and the one just after are
// exactly that commit's before and after, with their update times.
import path from "node:path";
import type { DocumentReference } from "firebase-admin/firestore";
import { onClipWritten } from "../../src/index";

interface EventDocument {
  name: string;
  fields: Record<string, unknown>;
  createTime: { seconds: number; nanos: number };
  updateTime: { seconds: number; nanos: number };
}

/** A raw Firestore CloudEvent (the attributes the product reads, and the protobuf data). */
export interface RawClipEvent {
  id: string;
  time: string;
  type: string;
  subject: string;
  document: string;
  datacontenttype: string;
  data: Buffer;
}

export interface Delivery {
  counts: Record<
    "published" | "delivered" | "duplicated" | "dropped" | "retried" | "failed",
    number
  >;
  publish(event: RawClipEvent): void;
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export interface DeliveryOptions {
  seed?: number;
  duplicateRate?: number;
  maxDelayMs?: number;
  dropRate?: number;
  retries?: number;
  retryBaseMs?: number;
  onGiveUp?: (event: RawClipEvent, error: unknown) => void;
}

interface EventarcModule {
  createDelivery(
    options: DeliveryOptions & { handler: (e: RawClipEvent) => Promise<void> },
  ): Delivery;
  documentFromSnapshot(snapshot: unknown, projectId: string): EventDocument | null;
  documentWrittenEvent(options: {
    projectId: string;
    docPath: string;
    before: EventDocument | null;
    after: EventDocument | null;
    time: string;
    id?: string;
  }): RawClipEvent;
  decodeEventData(event: RawClipEvent): {
    value?: EventDocument;
    oldValue?: EventDocument;
    updateMask?: { fieldPaths: string[] };
  };
  rfc3339(seconds: number, nanos?: number): string;
  seededRandom(seed: number): () => number;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const eventarc = require(
  path.resolve(__dirname, "../../../scripts/lib/eventarc.cjs"),
) as EventarcModule;

const trigger = onClipWritten as unknown as (event: RawClipEvent) => Promise<unknown>;

/** Delivers one event to the deployed shape of the trigger (raw CloudEvent in). */
export async function deliverToTrigger(event: RawClipEvent): Promise<void> {
  await trigger(event);
}

/** An Eventarc-like delivery to onClipWritten: at least once, unordered, as configured. */
export function eventarcDelivery(options: DeliveryOptions = {}): Delivery {
  return eventarc.createDelivery({ ...options, handler: deliverToTrigger });
}

/**
 * Writes clips and returns the event of each write. `timeSkewMs`: the event's `time` is moved
 * up to that much before or after the commit (production does not document it as the commit
 * time).
 */
export class ClipWriter {
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly random: () => number;

  constructor(
    private readonly options: { projectId?: string; timeSkewMs?: number; seed?: number } = {},
  ) {
    this.random = eventarc.seededRandom(options.seed ?? 1);
  }

  /** Sets (data) or deletes (null) a clip; null when nothing changed (no event). */
  write(ref: DocumentReference, data: object | null): Promise<RawClipEvent | null> {
    const previous = this.chains.get(ref.path) ?? Promise.resolve();
    const next = previous.then(() => this.writeNow(ref, data));
    this.chains.set(
      ref.path,
      next.catch(() => undefined),
    );
    return next;
  }

  private async writeNow(ref: DocumentReference, data: object | null) {
    const projectId = this.options.projectId ?? process.env.GCLOUD_PROJECT ?? "demo-clipstore";
    const before = await ref.get();
    if (data === null && !before.exists) return null;
    const result = data === null ? await ref.delete() : await ref.set(data);
    const after = await ref.get();
    const skew = this.options.timeSkewMs
      ? Math.round((this.random() * 2 - 1) * this.options.timeSkewMs)
      : 0;
    const at = result.writeTime.toMillis() + skew;
    const nanos = (((at % 1000) + 1000) % 1000) * 1e6 + (result.writeTime.nanoseconds % 1e6);
    return eventarc.documentWrittenEvent({
      projectId,
      docPath: ref.path,
      before: eventarc.documentFromSnapshot(before, projectId),
      after: eventarc.documentFromSnapshot(after, projectId),
      time: eventarc.rfc3339(Math.floor(at / 1000), nanos),
    });
  }
}
