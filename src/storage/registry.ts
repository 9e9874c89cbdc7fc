import { z } from 'zod'
import { adapterFor } from '../core/adapter.js'
import { localStore } from './local/local-definition.js'
import { s3Store } from './s3/s3-definition.js'
import type { ObjectStore } from './storage.js'
import { parseLakeUri } from './uri.js'

/**
 * The built-in object stores. The lake URI picks one (a directory or s3://), so each kind's
 * options are a key of `storage:` named after it rather than a `kind` field.
 */
export const STORE_KINDS = [localStore, s3Store] as const

export const storageSchema = z
  .strictObject({ s3: s3Store.schema.prefault({}) })
  .prefault({})
  .describe('Object-store options.')

export type StorageOptions = z.output<typeof storageSchema>

/**
 * Opens the object store for a lake URI: a directory (default) or S3. The S3 adapter, and with it
 * the AWS SDK, is only loaded when the lake is on S3.
 *
 * @example const store = await openStore('s3://bucket/lake', config.storage)
 */
export function openStore(
  uri: string,
  options: StorageOptions = { s3: { timeout: '30s', attempts: 5 } },
  base?: string,
): Promise<ObjectStore> {
  const location = parseLakeUri(uri, base)
  const definition = adapterFor(STORE_KINDS, location.kind, 'storage')
  const own = (options as Record<string, unknown>)[location.kind] ?? {}
  return definition.create(own as never, { location, uri })
}
