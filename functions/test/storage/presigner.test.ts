// The presigner against the S3 stand-in, which verifies signatures: URLs it signs are served,
// whatever the key holds, with a download name, across a change of second (the formatted date
// is kept per second), and a tampered one is refused.
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { contentDisposition, createPresigner } from "../../src/storage/presigner";
import { fetchText, putObject, uniqueId } from "../support/api-fixtures";
import { testEnv, testS3 } from "../support/servers-env";

function presignerAt(times: Date[]) {
  const env = testEnv();
  let i = 0;
  return createPresigner({
    endpoint: env.s3Endpoint,
    accessKeyId: env.accessKeyId,
    secretAccessKey: env.secretAccessKey,
    now: () => times[Math.min(i++, times.length - 1)],
  });
}

const amzDate = (url: string) => new URL(url).searchParams.get("X-Amz-Date");

describe("presigner", () => {
  it("signs URLs the stand-in serves, for keys with spaces, plus signs and non-ASCII", async () => {
    const base = `presigner/${uniqueId("p")}`;
    const keys = [`${base}/plain.mp4`, `${base}/clip name+1 (final).mp4`, `${base}/été/ñ.mp4`];
    for (const key of keys) await putObject(key, `bytes of ${key}`);
    const presigner = presignerAt([new Date()]);
    for (const key of keys) {
      const url = await presigner.presign(testEnv().bucket, key, { expiresInSeconds: 600 });
      const got = await fetchText(url);
      expect(`${key}: ${got.status} ${got.body}`).toBe(`${key}: 200 bytes of ${key}`);
    }
  });

  it("keeps the date per second: URLs signed in the next second carry that second and still work", async () => {
    const key = `presigner/${uniqueId("p")}/a.mp4`;
    await putObject(key, "a");
    const t = Date.now() - 5000;
    const times = [new Date(t), new Date(t + 300), new Date(t + 1300)];
    const presigner = presignerAt(times);
    const urls = [];
    for (let i = 0; i < times.length; i++)
      urls.push(await presigner.presign(testEnv().bucket, key, { expiresInSeconds: 600 }));
    const format = (d: Date) =>
      d
        .toISOString()
        .replace(/\.\d{3}Z$/, "Z")
        .replace(/[-:]/g, "");
    expect(urls.map(amzDate)).toEqual(times.map(format));
    for (const url of urls) expect((await fetchText(url)).status).toBe(200);
  });

  it("signs a download name, and the stand-in refuses a tampered signature", async () => {
    const key = `presigner/${uniqueId("p")}/b.mp4`;
    await putObject(key, "b");
    const presigner = presignerAt([new Date()]);
    const url = await presigner.presign(testEnv().bucket, key, {
      expiresInSeconds: 600,
      downloadFileName: "Goal – final.mp4",
    });
    const got = await fetchText(url);
    expect(got.status).toBe(200);
    expect(got.headers.get("content-disposition")).toContain(
      "filename*=UTF-8''Goal%20%E2%80%93%20final.mp4",
    );
    const tampered = url.replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_, c: string) => `X-Amz-Signature=${c === "0" ? "1" : "0"}`,
    );
    expect((await fetchText(tampered)).status).toBe(403);
  });

  it("returns byte for byte the URL getSignedUrl returns, for the same object, date and expiry", async () => {
    const { bucket } = testEnv();
    const s3 = testS3();
    const keys = [
      "users/u1/videos/v1/clips/01_vertical_0-12.5.mp4",
      "users/u1/videos/v1/clips/clip name+1 (final)!*'.mp4",
      "users/ü/videos/été/clips/ñ ~x.mp4",
    ];
    const dates = [new Date("2026-03-04T05:06:07.890Z"), new Date("2026-12-31T23:59:59.999Z")];
    for (const date of dates) {
      const ours = presignerAt([date]);
      for (const key of keys) {
        for (const downloadFileName of [undefined, 'Goal – final "cut".mp4']) {
          const expiresIn = 900;
          const theirs = await getSignedUrl(
            s3,
            new GetObjectCommand({
              Bucket: bucket,
              Key: key,
              ResponseContentDisposition:
                downloadFileName === undefined ? undefined : contentDisposition(downloadFileName),
            }),
            { expiresIn, signingDate: date },
          );
          const url = await ours.presign(bucket, key, {
            expiresInSeconds: expiresIn,
            downloadFileName,
          });
          expect(url).toBe(theirs);
        }
        const putUrl = await ours.presign(bucket, key, { expiresInSeconds: 60, method: "PUT" });
        const theirPut = await getSignedUrl(
          s3,
          new PutObjectCommand({ Bucket: bucket, Key: key }),
          {
            expiresIn: 60,
            signingDate: date,
          },
        );
        expect(putUrl).toBe(theirPut);
      }
    }
    s3.destroy();
  });
});
