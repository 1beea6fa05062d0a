// Delivers clip writes made on the embedded Firestore server to the project's onClipWritten
// trigger, as Firestore's own emulator (or production) would: firebase-tools only registers
// Firestore triggers when its own Firestore emulator runs. The trigger is the built function
// (functions/lib/index.js), run in this process through its `run(event)` entry with a
// CloudEvent whose data holds real DocumentSnapshots read back through firebase-admin.
//
// Delivery is asynchronous, at least once and unordered, like the real thing: each write
// schedules one delivery; a delivery reads the document as it is then (its current update
// time is the version the trigger records, so a later state is never undone by an earlier
// event), and a failed delivery is retried with backoff.
import { createRequire } from "node:module";
import path from "node:path";

const CLIP_PATH = /^users\/([^/]+)\/videos\/([^/]+)\/clips\/([^/]+)$/;

export function startTriggerBridge({ root, server, projectId, log = () => {} }) {
  const require = createRequire(path.join(root, "functions", "package.json"));
  const functions = require(path.join(root, "functions", "lib", "index.js"));
  const { getFirestore, Timestamp } = require("firebase-admin/firestore");
  const db = getFirestore();
  const pending = new Set();
  let stopped = false;
  let seq = 0;

  const deliver = async (docPath, attempt = 0) => {
    const m = CLIP_PATH.exec(docPath);
    if (!m || stopped) return;
    const [, uid, videoId, clipId] = m;
    const ref = db.doc(docPath);
    try {
      const after = await ref.get();
      const now = Timestamp.now();
      const time = new Date(now.toMillis()).toISOString().replace(/\.\d{3}Z$/, `.${String(now.nanoseconds).padStart(9, "0")}Z`);
      const event = {
        specversion: "1.0",
        id: `bridge-${process.pid}-${++seq}`,
        source: `//firestore.googleapis.com/projects/${projectId}/databases/(default)`,
        type: after.exists ? "google.cloud.firestore.document.v1.written" : "google.cloud.firestore.document.v1.deleted",
        subject: `documents/${docPath}`,
        time,
        params: { uid, videoId, clipId },
        data: { before: after, after },
      };
      await functions.onClipWritten.run(event);
      log(`trigger onClipWritten ${docPath}`);
    } catch (e) {
      if (attempt < 8 && !stopped) {
        const delay = Math.min(30000, 250 * 2 ** attempt);
        log(`trigger onClipWritten failed for ${docPath} (${e?.message ?? e}); retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
        return deliver(docPath, attempt + 1);
      }
      log(`trigger onClipWritten gave up on ${docPath}: ${e?.stack ?? e}`);
    }
  };

  const onWrite = ({ document }) => {
    const docPath = document.getDocumentPath ? document.getDocumentPath() : String(document.name);
    const p = new Promise((r) => setImmediate(r)).then(() => deliver(docPath.replace(/^\/+/, "")));
    pending.add(p);
    p.finally(() => pending.delete(p));
  };
  const emitter = server.state.emitter;
  for (const ev of ["create-document", "update-document", "delete-document"]) emitter.on(ev, onWrite);

  return {
    /** Resolves when every delivery scheduled so far has finished. */
    async idle() {
      while (pending.size) await Promise.all([...pending]);
    },
    async stop() {
      for (const ev of ["create-document", "update-document", "delete-document"]) emitter.off(ev, onWrite);
      await this.idle();
      stopped = true;
    },
  };
}
