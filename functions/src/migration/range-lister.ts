/**
 * The list step: pages through one key range of the bucket from its checkpoint, in key order,
 * and hands over complete videos and stray keys (planner.ts groups them). A range is a prefix
 * (`users/`, `users/{uid}/`) and, for a partition, key bounds (key-range.ts): the listing
 * starts after `max(checkpoint, after)` and ends at the first key past `through`, which is
 * never handed over, so two partitions never handle the same key.
 *
 * Continuation tokens are used only within one lister (one run); a new run starts from the
 * checkpoint with `StartAfter`.
 */
import type { ObjectStore } from "../storage/object-store";
import { inRange, pastRange, type KeyRange } from "./key-range";
import { ListingGrouper, type PlanItem } from "./planner";

export interface ListScope {
  /** ListObjectsV2 prefix: every key of the range starts with it. */
  prefix: string;
  /** Key bounds within the prefix (a partition); null: the whole prefix. */
  range: KeyRange | null;
}

/** Whether a checkpoint belongs to the scope (one left by another scope is ignored). */
export function checkpointInScope(scope: ListScope, checkpoint: string | null): boolean {
  return (
    checkpoint !== null &&
    checkpoint.startsWith(scope.prefix) &&
    (scope.range === null || inRange(scope.range, checkpoint))
  );
}

export class RangeLister {
  private readonly grouper = new ListingGrouper();
  private token: string | undefined;
  private firstPage = true;
  /** Pages listed so far. */
  pages = 0;
  /** The greatest key listed (handed over or still pending); null before the first page. */
  lastListedKey: string | null = null;
  /** The listing reached the end of the range: no more items after those already returned. */
  ended = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly scope: ListScope,
    /** Last key handled (exclusive start); null: the start of the range. */
    private readonly startAfter: string | null,
    private readonly pageSize: number,
  ) {}

  /** One page: the items it completed (possibly none, when it only extended a video). */
  async next(): Promise<PlanItem[]> {
    if (this.ended) return [];
    const { prefix, range } = this.scope;
    const startAfter = this.startAfter ?? range?.after ?? undefined;
    const page = await this.store.list({
      prefix,
      startAfter: this.firstPage ? startAfter : undefined,
      continuationToken: this.firstPage ? undefined : this.token,
      maxKeys: this.pageSize,
    });
    this.firstPage = false;
    this.pages++;
    const beyond = range ? page.objects.findIndex((o) => pastRange(range, o.key)) : -1;
    const objects = beyond >= 0 ? page.objects.slice(0, beyond) : page.objects;
    if (objects.length > 0) this.lastListedKey = objects[objects.length - 1].key;
    const items = this.grouper.push(objects);
    if (beyond >= 0 || !page.isTruncated) {
      items.push(...this.grouper.end());
      this.ended = true;
    } else {
      if (!page.nextContinuationToken)
        throw new Error(`listing of ${prefix} was truncated without a continuation token`);
      this.token = page.nextContinuationToken;
    }
    return items;
  }
}
