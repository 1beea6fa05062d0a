// mergeStreams (listVideos' page from the Firestore stream and the legacy index stream), as a
// model: any set of Firestore videos and indexed legacy videos (equal created_at frequent, some
// legacy entries shadowed by a Firestore video at another place), any page size, and videos
// migrated between pages (moved to Firestore at the same place): every walk shows each video
// once, in the listing's order, never more than `limit` per page, and ends.
import fc from "fast-check";
import { Timestamp } from "firebase-admin/firestore";
import { mergeStreams, type Entry, type Stream } from "../../src/api/list-merge";
import { comparePositions, type ListPosition } from "../../src/api/views";

const position = (t: number, id: string): ListPosition => ({
  createdAt: new Timestamp(t, 0),
  id,
});

/** What one stream answers: at most `limit` entries after the cursor, and how far it read. */
function read(all: ListPosition[], limit: number, after: ListPosition | null) {
  const rest = all.filter((p) => !after || comparePositions(p, after) > 0).sort(comparePositions);
  const entries = rest.slice(0, limit);
  return { entries, bound: rest.length > limit ? entries[entries.length - 1] : null };
}

function entry(p: ListPosition): Entry {
  return { position: p, build: () => null };
}

const world = fc
  .record({
    videos: fc.uniqueArray(
      fc.record({
        id: fc.stringMatching(/^[a-z]{1,3}$/),
        t: fc.integer({ min: 0, max: 5 }),
        where: fc.constantFrom("firestore", "legacy", "both", "elsewhere"),
      }),
      { selector: (v) => v.id, maxLength: 40 },
    ),
    limit: fc.integer({ min: 1, max: 7 }),
    migrateBetweenPages: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ videos, limit, migrateBetweenPages }) => {
    const firestore = new Map<string, ListPosition>();
    const index: ListPosition[] = [];
    for (const v of videos) {
      const p = position(v.t, v.id);
      if (v.where !== "legacy")
        firestore.set(v.id, v.where === "elsewhere" ? position(v.t + 7, v.id) : p);
      if (v.where !== "firestore") index.push(p);
    }
    return { firestore, index, limit, migrateBetweenPages };
  });

describe("mergeStreams", () => {
  it("walks every video once, in order, at most `limit` per page, while videos are migrated between pages", () => {
    fc.assert(
      fc.property(world, ({ firestore, index, limit, migrateBetweenPages }) => {
        const shown: ListPosition[] = [];
        let cursor: ListPosition | null = null;
        let pages = 0;
        do {
          const fs = read([...firestore.values()], limit, cursor);
          const legacy = read(index, limit, cursor);
          const streams: Stream[] = [
            { entries: fs.entries.map(entry), bound: fs.bound },
            // A legacy entry whose video Firestore has is dropped (legacy-listing.ts).
            {
              entries: legacy.entries.filter((p) => !firestore.has(p.id)).map(entry),
              bound: legacy.bound,
            },
          ];
          const { page, next } = mergeStreams(streams, limit);
          expect(page.length).toBeLessThanOrEqual(limit);
          shown.push(...page.map((e) => e.position));
          cursor = next;
          pages++;
          // The migration moves legacy videos not shown yet to Firestore, at the same place.
          let moved = 0;
          for (const p of index) {
            if (moved >= migrateBetweenPages || firestore.has(p.id)) continue;
            firestore.set(p.id, p);
            moved++;
          }
        } while (cursor !== null && pages <= 200);
        expect(cursor).toBeNull();
        const ids = shown.map((p) => p.id);
        expect(new Set(ids).size).toBe(ids.length);
        const expected = new Set([...firestore.keys(), ...index.map((p) => p.id)]);
        expect(new Set(ids)).toEqual(expected);
        for (let i = 1; i < shown.length; i++)
          expect(comparePositions(shown[i - 1], shown[i])).toBeLessThan(0);
      }),
      { numRuns: 300 },
    );
  });
});
