/**
 * Connectivity test against a real S3-compatible server (npm:@aws-sdk/client-s3): creates a scratch
 * bucket, uploads a 10 MB random object as a multipart upload (5 MB parts), reads it back whole and
 * by range, deletes it, and checks that a wrong secret key is rejected (proof of real signature
 * checks).
 *
 * @module
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import {
  assertBytesEqual,
  randomBytes,
  type S3Settings,
  s3Settings,
  scratchName,
  serverTest,
} from "./_servers.ts";

const SIZE = 10 * 1024 * 1024;
const PART = 5 * 1024 * 1024;

function clientConfig(s: S3Settings, secretKey = s.secretKey): S3ClientConfig {
  return {
    endpoint: s.endpoint,
    region: s.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s.accessKey, secretAccessKey: secretKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  };
}

await serverTest("s3", "s3: bucket, 10 MB multipart object, ranged get, auth check", async () => {
  const s = s3Settings()!;
  const client = new S3Client(clientConfig(s));
  const bad = new S3Client(clientConfig(s, `${s.secretKey}-wrong`));
  const Bucket = scratchName("dj-ci-s3-");
  const Key = "scratch/object.bin";
  try {
    await client.send(new CreateBucketCommand({ Bucket }));
    try {
      const value = randomBytes(SIZE);
      const upload = new Upload({
        client,
        params: { Bucket, Key, Body: value, ContentType: "application/octet-stream" },
        partSize: PART,
        queueSize: 2,
      });
      const done = await upload.done();
      // A multipart ETag ends in "-<number of parts>".
      if (!/-2"?$/.test(done.ETag ?? "")) throw new Error(`not a 2-part ETag: ${done.ETag}`);

      const head = await client.send(new HeadObjectCommand({ Bucket, Key }));
      if (head.ContentLength !== SIZE) throw new Error(`ContentLength ${head.ContentLength}`);

      const list = await client.send(new ListObjectsV2Command({ Bucket }));
      const keys = (list.Contents ?? []).map((o) => o.Key);
      if (keys.length !== 1 || keys[0] !== Key) throw new Error(`listing: ${keys.join(",")}`);

      const got = await client.send(new GetObjectCommand({ Bucket, Key }));
      assertBytesEqual(await got.Body!.transformToByteArray(), value, "object");

      const start = PART - 1000; // a range that spans the part boundary
      const end = PART + 999;
      const ranged = await client.send(
        new GetObjectCommand({ Bucket, Key, Range: `bytes=${start}-${end}` }),
      );
      if (ranged.ContentRange !== `bytes ${start}-${end}/${SIZE}`) {
        throw new Error(`ContentRange ${ranged.ContentRange}`);
      }
      assertBytesEqual(
        await ranged.Body!.transformToByteArray(),
        value.subarray(start, end + 1),
        "range",
      );

      // A wrong secret must be rejected: the server really checks signatures.
      let rejected: unknown = undefined;
      try {
        await bad.send(new ListObjectsV2Command({ Bucket }));
      } catch (e) {
        rejected = e;
      }
      const err = rejected as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (rejected === undefined) throw new Error("a wrong secret key was accepted");
      if (
        err.$metadata?.httpStatusCode !== 403 ||
        !["SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied"].includes(err.name ?? "")
      ) {
        throw new Error(
          `unexpected error for a wrong secret: ${err.name} (${err.$metadata?.httpStatusCode})`,
        );
      }

      await client.send(new DeleteObjectCommand({ Bucket, Key }));
    } finally {
      // Clean up whatever is left (e.g. after a failed assertion), then the bucket.
      const left = await client.send(new ListObjectsV2Command({ Bucket }));
      for (const o of left.Contents ?? []) {
        await client.send(new DeleteObjectCommand({ Bucket, Key: o.Key }));
      }
      await client.send(new DeleteBucketCommand({ Bucket }));
    }
  } finally {
    client.destroy();
    bad.destroy();
  }
});
