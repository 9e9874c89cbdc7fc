import { resolve } from 'node:path'
import { WeirError } from '../core/errors.js'
import { maskUri } from '../core/redact.js'

/** A parsed lake URI. */
export type LakeLocation =
  | { readonly kind: 'local'; readonly root: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string }

/**
 * Parses a lake URI: a path (relative to `base`), `file://...`, or `s3://bucket/prefix`.
 * @example parseLakeUri('s3://my-bucket/lake') // { kind: 's3', bucket: 'my-bucket', prefix: 'lake' }
 */
export function parseLakeUri(uri: string, base = process.cwd()): LakeLocation {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase()
  if (scheme === 's3' || scheme === 's3a') {
    const rest = uri.slice(scheme.length + 3)
    const slash = rest.indexOf('/')
    const bucket = slash < 0 ? rest : rest.slice(0, slash)
    const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '')
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new WeirError(`lake ${maskUri(uri)}: "${maskUri(bucket)}" is not a valid S3 bucket name`, {
        code: 'LAKE_URI_INVALID',
        stage: 'storage',
      })
    }
    return { kind: 's3', bucket, prefix }
  }
  if (scheme === 'file') return { kind: 'local', root: resolve(base, decodeURIComponent(uri.slice(7))) }
  if (scheme) {
    throw new WeirError(
      `lake ${maskUri(uri)}: unsupported scheme "${scheme}://"; use a directory or s3://bucket/prefix`,
      {
        code: 'LAKE_URI_INVALID',
        stage: 'storage',
      },
    )
  }
  return { kind: 'local', root: resolve(base, uri) }
}
