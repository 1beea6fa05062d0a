// Delivers clip writes made on the embedded Firestore server to the project's onClipWritten
// trigger, as Eventarc delivers Firestore events in production (scripts/lib/eventarc.cjs):
// firebase-tools only registers Firestore triggers when its own Firestore emulator runs. The
// trigger is the built function (functions/lib/index.js), called with the raw CloudEvent, so
// firebase-functions decodes the protobuf payload as it does in production.
//
// Each commit gives one event per clip written, built from the server's own before/after
// documents of that commit (update times included; no `after` on a delete) with `time` the
// commit time. Delivery is at least once and unordered; options (npm start reads them from
// CLIPSTORE_TRIGGER_* variables, see README) add duplicates, random delays (hence reordering)
// and a skew of `time` away from the commit. A failed delivery is retried with backoff.
import { createRequire } from "node:module";
import path from "node:path";

const CLIP_PATH = /^users\/([^/]+)\/videos\/([^/]+)\/clips\/([^/]+)$/;
const require = createRequire(import.meta.url);
const eventarc = require("./eventarc.cjs");

export function startTriggerBridge({
  root,
  server,
  projectId,
  log = () => {},
  duplicateRate = 0,
  maxDelayMs = 0,
  timeSkewMs = 0,
  seed = Date.now(),
}) {
  const functions = createRequire(path.join(root, "functions", "package.json"))(path.join(root, "functions", "lib", "index.js"));
  const random = eventarc.seededRandom(seed ^ 0x5bd1e995);
  const delivery = eventarc.createDelivery({
    handler: async (event) => {
      await functions.onClipWritten(event);
      log(`trigger onClipWritten ${event.document} (${event.id})`);
    },
    seed,
    duplicateRate,
    maxDelayMs,
    log,
  });

  const onWrite = ({ document, before, after, updateTime }) => {
    if (!(updateTime instanceof Date)) return; // not a commit's change event
    const docPath = String(document.getDocumentPath ? document.getDocumentPath() : document.name).replace(/^\/+/, "");
    if (!CLIP_PATH.test(docPath)) return;
    const skew = timeSkewMs ? Math.round((random() * 2 - 1) * timeSkewMs) : 0;
    const at = updateTime.getTime() + skew;
    delivery.publish(
      eventarc.documentWrittenEvent({
        projectId,
        docPath,
        before: eventarc.documentFromServer(before),
        after: eventarc.documentFromServer(after),
        time: eventarc.rfc3339(Math.floor(at / 1000), (((at % 1000) + 1000) % 1000) * 1e6),
      }),
    );
  };
  const emitter = server.state.emitter;
  for (const ev of ["create-document", "update-document", "delete-document"]) emitter.on(ev, onWrite);

  return {
    counts: delivery.counts,
    /** Resolves when every delivery scheduled so far has finished. */
    idle: () => delivery.idle(),
    async stop() {
      for (const ev of ["create-document", "update-document", "delete-document"]) emitter.off(ev, onWrite);
      await delivery.stop();
    },
  };
}
