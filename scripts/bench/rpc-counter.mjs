// Counts what Firestore bills and does, at the server: the embedded server's gRPC methods are
// wrapped as the server registers them (grpc-js' public Server#addService), before it starts.
//   reads:   documents returned by BatchGetDocuments (a missing one too: billed as a read) and
//            RunQuery (at least one per query), one per aggregation
//   writes:  writes in successful Commit / BatchWrite requests
//   commits: successful Commit requests (transactional or not; an empty one too)
//   aborted: Commit and read requests that failed (ABORTED under contention and the like)
//   hottest: the most writes committed to any one document (a hot document shows here)
import { createRequire } from "node:module";

export function countFirestoreRpcs() {
  const require = createRequire(import.meta.url);
  const serverDir = require.resolve("@firestore-emulator/server");
  const grpc = createRequire(serverDir)("@grpc/grpc-js");
  const counts = { reads: 0, writes: 0, commits: 0, aborted: 0, rollbacks: 0 };
  const perDocument = new Map();
  const written = (w) => (w.has_update ? w.update.name : w.has_delete ? w.delete : w.transform?.document);
  const countWrites = (writes) => {
    counts.writes += writes.length;
    for (const w of writes) {
      const name = written(w);
      perDocument.set(name, (perDocument.get(name) ?? 0) + 1);
    }
  };

  const unary = (name, fn, onOk) =>
    function (call, callback) {
      return fn.call(this, call, (err, value) => {
        if (err) counts.aborted += 1;
        else onOk(call.request);
        callback(err, value);
      });
    };
  const streaming = (fn, perMessage, atLeast = 0) =>
    function (call) {
      let n = 0;
      const write = call.write.bind(call);
      call.write = (message, ...rest) => {
        n += perMessage(message);
        return write(message, ...rest);
      };
      const emit = call.emit.bind(call);
      call.emit = (event, ...rest) => {
        if (event === "error") counts.aborted += 1;
        return emit(event, ...rest);
      };
      call.on("finish", () => {
        counts.reads += Math.max(atLeast, n);
      });
      return fn.call(this, call);
    };
  const wrappers = {
    Commit: (fn) =>
      unary("Commit", fn, (req) => {
        counts.commits += 1;
        countWrites(req.writes);
      }),
    BatchWrite: (fn) => unary("BatchWrite", fn, (req) => countWrites(req.writes)),
    Rollback: (fn) => unary("Rollback", fn, () => (counts.rollbacks += 1)),
    BatchGetDocuments: (fn) => streaming(fn, (m) => (m.has_found || m.has_missing ? 1 : 0)),
    RunQuery: (fn) => streaming(fn, (m) => (m.has_document ? 1 : 0), 1),
    RunAggregationQuery: (fn) => streaming(fn, () => 1),
  };
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (service, implementation) {
    const wrapped = Object.create(implementation);
    for (const [name, wrap] of Object.entries(wrappers)) {
      if (typeof implementation[name] === "function") wrapped[name] = wrap(implementation[name].bind(implementation));
    }
    return addService.call(this, service, wrapped);
  };
  return {
    counts,
    snapshot: () => ({ ...counts, perDocument: new Map(perDocument) }),
    since: (before) => {
      const diff = Object.fromEntries(Object.keys(counts).map((k) => [k, counts[k] - before[k]]));
      diff.hottest = Math.max(0, ...[...perDocument].map(([name, n]) => n - (before.perDocument.get(name) ?? 0)));
      return diff;
    },
  };
}
