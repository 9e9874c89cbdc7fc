import type { WeirConfig } from '../config/schema.js'
import type { ObjectStore } from './storage.js'
import { parseLakeUri } from './uri.js'

/**
 * Opens the object store for a lake URI: a directory (default) or S3. The S3 adapter, and with it
 * the AWS SDK, is only loaded when the lake is on S3.
 *
 * @example const store = await openStore('s3://bucket/lake', config.storage)
 */
export async function openStore(
  uri: string,
  options: WeirConfig['storage'] = { s3: { timeout: '30s', attempts: 5 } },
  base?: string,
) {
  const loc = parseLakeUri(uri, base)
  if (loc.kind === 'local') {
    const { createLocalStore } = await import('./local/local-store.js')
    return createLocalStore(loc.root, uri)
  }
  const { createS3Store } = await import('./s3/s3-store.js')
  return createS3Store({
    bucket: loc.bucket,
    prefix: loc.prefix,
    ...options.s3,
  }) satisfies Promise<ObjectStore>
}
