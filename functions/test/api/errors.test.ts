// Infrastructure failures a client can retry reach it as `unavailable` / `resource-exhausted`,
// never as `internal`: the mapping of errors.ts, and a real call whose R2 is unreachable.
import { HttpsError } from "firebase-functions/https";
import { runHandler } from "../../src/api/context";
import { handleGetVideoInfo } from "../../src/api/get-video-info";
import { toHttpsError, UnavailableError } from "../../src/errors";
import { createS3Client, R2ObjectStore } from "../../src/storage/r2";
import { caller, handlerDeps, uniqueId } from "../support/api-fixtures";

describe("toHttpsError", () => {
  it.each([
    ["Firestore UNAVAILABLE (gRPC 14)", { code: 14 }, "unavailable"],
    ["Firestore DEADLINE_EXCEEDED (gRPC 4)", { code: 4 }, "unavailable"],
    ["Firestore ABORTED (gRPC 10, contention)", { code: 10 }, "unavailable"],
    ["Firestore RESOURCE_EXHAUSTED (gRPC 8)", { code: 8 }, "resource-exhausted"],
    ["R2 503", { name: "ServiceUnavailable", $metadata: { httpStatusCode: 503 } }, "unavailable"],
    ["R2 SlowDown", { name: "SlowDown", $metadata: { httpStatusCode: 503 } }, "resource-exhausted"],
    [
      "R2 429",
      { name: "TooManyRequests", $metadata: { httpStatusCode: 429 } },
      "resource-exhausted",
    ],
    ["a refused connection", { code: "ECONNREFUSED" }, "unavailable"],
    ["a timeout", { name: "TimeoutError" }, "unavailable"],
    ["a wrapped cause", { message: "x", cause: { code: 14 } }, "unavailable"],
    ["Firestore NOT_FOUND (gRPC 5)", { code: 5 }, "internal"],
    ["a bug", new TypeError("undefined is not a function"), "internal"],
  ])("%s → %s", (_label, error, code) => {
    const mapped = toHttpsError(Object.assign(new Error("cause"), error));
    expect(mapped).toBeInstanceOf(HttpsError);
    expect(mapped.code).toBe(code);
    expect(mapped.message).not.toContain("cause"); // the cause stays in the log line
  });

  it("keeps domain errors as they are", () => {
    expect(toHttpsError(new UnavailableError("busy")).code).toBe("unavailable");
  });

  it("a call whose R2 cannot be reached answers unavailable, with the cause in the log line", async () => {
    const deps = await handlerDeps({ mode: "r2" });
    const settings = {
      endpoint: "http://127.0.0.1:9", // nothing listens on the discard port
      bucket: "clips",
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
    };
    deps.store = new R2ObjectStore(createS3Client(settings), settings);
    const call = runHandler(
      "getVideoInfo",
      deps,
      caller(uniqueId("u")),
      { videoId: "v1" },
      handleGetVideoInfo,
    );
    await expect(call).rejects.toMatchObject({ code: "unavailable" });
  });
});
