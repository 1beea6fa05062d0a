/** Which counter shard a clip's contribution goes to: a stable hash of its id (FNV-1a). */
export function shardFor(clipId: string, shardCount: number): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < clipId.length; i++) {
    h ^= clipId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return String(h % Math.max(1, shardCount));
}
