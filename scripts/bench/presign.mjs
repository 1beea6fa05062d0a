// Cost of one presigned GET URL, in one run: the AWS SDK's getSignedUrl against the project's
// presigner (the same package's public S3RequestPresigner.presign(), one presigner reused and
// the request parts precomputed; byte for byte the same URLs), one URL at a time and as
// getVideoInfo signs a page (100 URLs at once). The last column is getSignedUrl's CPU time
// per URL divided by the row's.
export async function benchPresign({ lib, n = 5000 }) {
  const { createPresigner } = lib("storage/presigner");
  const { S3Client, GetObjectCommand } = lib.require("@aws-sdk/client-s3");
  const { getSignedUrl } = lib.require("@aws-sdk/s3-request-presigner");
  const settings = { endpoint: "http://127.0.0.1:9000", accessKeyId: "BENCHKEY", secretAccessKey: "BENCHSECRET" };
  const client = new S3Client({ region: "auto", endpoint: settings.endpoint, forcePathStyle: true, credentials: settings, requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" });
  const ours = createPresigner(settings);
  const key = (i) => `users/u1/videos/v1/clips/${String(i % 1000).padStart(3, "0")}_vertical_12.5-47.25.mp4`;
  const measure = async (label, sign, count = n) => {
    for (let i = 0; i < Math.min(500, count); i++) await sign(i); // warm-up: JIT and the day's signing key
    // CPU time of this process: what signing costs, whatever else the machine is doing.
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < count; i++) await sign(i);
    const wall = Number(process.hrtime.bigint() - t0) / count / 1000;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / count;
    return { signer: label, urls: count, cpu_us_per_url: +cpu.toFixed(1), wall_us_per_url: +wall.toFixed(1), cpu_ms_per_2000_urls: +((cpu * 2000) / 1000).toFixed(1) };
  };
  const page = (i) => Promise.all(Array.from({ length: 100 }, (_, j) => ours.presign("clips", key(i * 100 + j), { expiresInSeconds: 3600 })));
  const perPage = async () => {
    const row = await measure("clipstore presigner, pages of 100 (Promise.all)", page, (n * 4) / 100);
    return { ...row, urls: n * 4, cpu_us_per_url: +(row.cpu_us_per_url / 100).toFixed(1), wall_us_per_url: +(row.wall_us_per_url / 100).toFixed(1), cpu_ms_per_2000_urls: +(row.cpu_ms_per_2000_urls / 100).toFixed(1) };
  };
  const rows = [
    await measure("@aws-sdk/s3-request-presigner getSignedUrl", (i) => getSignedUrl(client, new GetObjectCommand({ Bucket: "clips", Key: key(i) }), { expiresIn: 3600 })),
    await measure("clipstore presigner (S3RequestPresigner.presign)", (i) => ours.presign("clips", key(i), { expiresInSeconds: 3600 }), n * 4),
    await perPage(),
  ];
  const reference = rows[0].cpu_us_per_url;
  return rows.map((row) => ({ ...row, speedup_vs_getSignedUrl: `${(reference / row.cpu_us_per_url).toFixed(1)}x` }));
}
