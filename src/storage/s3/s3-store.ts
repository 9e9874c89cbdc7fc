import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import type { S3Client } from '@aws-sdk/client-s3'
import { errorMessage, WeirError } from '../../core/errors.js'
import { parseDuration } from '../../core/units.js'
import type { ObjectInfo, ObjectStore } from '../storage.js'

export interface S3StoreOptions {
  readonly bucket: string
  /** Key prefix of the lake inside the bucket, without trailing slash ('' for the bucket root). */
  readonly prefix: string
  readonly endpoint?: string | undefined
  readonly region?: string | undefined
  readonly forcePathStyle?: boolean | undefined
  /** Abandon a request that goes this long without an answer or data (e.g. '30s'); it is tried again. */
  readonly timeout?: string | number | undefined
  /** Tries per request, with the SDK's backoff between them. */
  readonly attempts?: number | undefined
}

/**
 * S3 and S3-compatible stores (MinIO, R2, s3rver) through AWS SDK v3, with credentials from the
 * standard AWS chain. The SDK is imported here, lazily, so commands that never touch S3 stay fast.
 *
 * @example const store = await createS3Store({ bucket: 'lake', prefix: 'prod' })
 */
export async function createS3Store(options: S3StoreOptions): Promise<ObjectStore> {
  // The SDK warns on every start under Node 20 about its own future releases; nothing a Weir user
  // can act on, and it breaks the one-line error rule. Set the variable to "false" to see it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const [sdk, { NodeHttpHandler }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('@smithy/node-http-handler'),
  ])
  const timeoutMs = parseDuration(options.timeout ?? '30s')
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL
  const client: S3Client = new sdk.S3Client({
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
    // Flexible checksums send aws-chunked bodies that many S3-compatible servers reject; MD5-free
    // PUTs with a Content-Length work everywhere, and S3 itself still verifies the payload signature.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Without a timeout a request a server never answers waits forever, and its stage with it.
    requestHandler: new NodeHttpHandler({
      connectionTimeout: Math.min(timeoutMs, 5_000),
      requestTimeout: timeoutMs,
      throwOnRequestTimeout: true,
    }),
    maxAttempts: options.attempts ?? 5,
  })
  const { bucket } = options
  const base = options.prefix ? `${options.prefix}/` : ''
  const uri = `s3://${bucket}${options.prefix ? `/${options.prefix}` : ''}`
  const fail = (key: string, op: string, err: unknown) => s3Error(uri, key, op, err)

  return {
    uri,
    capabilities: { localFiles: false },
    async put(key, body) {
      try {
        await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: base + key, Body: body }))
      } catch (err) {
        throw fail(key, 'write', err)
      }
    },
    async putIfMatch(key, body, etag) {
      // S3's conditional writes (If-None-Match: * to create, If-Match to replace one version).
      try {
        await client.send(
          new sdk.PutObjectCommand({
            Bucket: bucket,
            Key: base + key,
            Body: body,
            ...(etag === null ? { IfNoneMatch: '*' } : { IfMatch: etag }),
          }),
        )
        return true
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
        if (status === 412 || status === 409) return false
        throw fail(key, 'conditional write', err)
      }
    },
    async putFile(key, path) {
      try {
        const { size } = await stat(path)
        await client.send(
          new sdk.PutObjectCommand({
            Bucket: bucket,
            Key: base + key,
            Body: createReadStream(path),
            ContentLength: size,
          }),
        )
      } catch (err) {
        throw fail(key, 'upload', err)
      }
    },
    async get(key) {
      try {
        const res = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: base + key }))
        return res.Body as Readable
      } catch (err) {
        throw fail(key, 'read', err)
      }
    },
    async getBytes(key) {
      try {
        const res = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: base + key }))
        return res.Body ? await res.Body.transformToByteArray() : new Uint8Array()
      } catch (err) {
        if (isNotFound(err)) return undefined
        throw fail(key, 'read', err)
      }
    },
    async *list(prefix) {
      let token: string | undefined
      do {
        let page: import('@aws-sdk/client-s3').ListObjectsV2CommandOutput
        try {
          page = await client.send(
            new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: base + prefix, ContinuationToken: token }),
          )
        } catch (err) {
          throw fail(prefix, 'list', err)
        }
        for (const o of page.Contents ?? []) {
          if (!o.Key) continue
          yield {
            key: o.Key.slice(base.length),
            size: o.Size ?? 0,
            lastModified: o.LastModified ?? new Date(0),
            etag: o.ETag ?? '',
          } satisfies ObjectInfo
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token)
    },
    async delete(key) {
      try {
        await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: base + key }))
      } catch (err) {
        if (!isNotFound(err)) throw fail(key, 'delete', err)
      }
    },
    async head(key) {
      try {
        const res = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: base + key }))
        return {
          key,
          size: res.ContentLength ?? 0,
          lastModified: res.LastModified ?? new Date(0),
          etag: res.ETag ?? '',
        }
      } catch (err) {
        if (isNotFound(err)) return undefined
        throw fail(key, 'stat', err)
      }
    },
    async close() {
      client.destroy()
    },
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } }
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404
}

function s3Error(uri: string, key: string, op: string, err: unknown): WeirError {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; code?: string }
  const status = e?.$metadata?.httpStatusCode
  if (e?.name === 'NoSuchBucket') {
    return new WeirError(`${uri}: bucket does not exist; create it or fix the lake URI`, {
      code: 'STORAGE_NOT_FOUND',
      stage: 'storage',
      cause: err,
    })
  }
  if (isNotFound(err)) {
    return new WeirError(`${uri}/${key} not found`, {
      code: 'STORAGE_NOT_FOUND',
      stage: 'storage',
      cause: err,
    })
  }
  const denied = status === 403 || e?.name === 'AccessDenied' || e?.name === 'CredentialsProviderError'
  const hint = denied
    ? ' (check AWS credentials: AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)'
    : ''
  const unreachable = e?.code === 'ECONNREFUSED' || e?.code === 'ENOTFOUND'
  return new WeirError(`${uri}/${key}: cannot ${op}${hint}: ${errorMessage(err)}`, {
    code: denied ? 'STORAGE_DENIED' : 'STORAGE_IO',
    stage: 'storage',
    retryable: !denied && (unreachable || status === undefined || status >= 500 || status === 429),
    cause: err,
  })
}
