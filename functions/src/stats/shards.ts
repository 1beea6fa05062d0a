/**
 * Where a clip's count lives. Each clip's contribution is held by its ledger entry
 * (`stats_ledger/{clipId}`) and added into ONE counter shard of its video, recorded in that
 * entry: `{h}` for clips counted by the trigger, `import-{h}` for clips the migration imported
 * (moved by increments in the migration's fenced writes, migration/fenced-writes.ts), with `h`
 * a stable hash of the clip id.
 * A clip stays in its recorded shard while it counts for something; a clip counted again after
 * a delete goes to `{h}` for the shard count then in force.
 */

/** Prefix of the counter shards written by imports. */
export const IMPORT_SHARD_PREFIX = "import-";

/** Import shards per video (fixed: the migration needs no param to write them). */
export const IMPORT_SHARDS = 16;

/** FNV-1a of the clip id, modulo `shardCount`. */
function shardIndex(clipId: string, shardCount: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < clipId.length; i++) {
    h ^= clipId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % Math.max(1, shardCount);
}

/** The shard the trigger counts a clip in. */
export function shardFor(clipId: string, shardCount: number): string {
  return String(shardIndex(clipId, shardCount));
}

/** The shard an import counts a clip in. */
export function importShardFor(clipId: string): string {
  return `${IMPORT_SHARD_PREFIX}${shardIndex(clipId, IMPORT_SHARDS)}`;
}

export function isImportShard(shardId: string): boolean {
  return shardId.startsWith(IMPORT_SHARD_PREFIX);
}
