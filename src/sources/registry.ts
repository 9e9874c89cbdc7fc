import { z } from 'zod'
import { kindSchemas } from '../core/adapter.js'
import { WeirError } from '../core/errors.js'
import { codeSource } from './code/code-source.js'
import { demoSource } from './demo/demo-source.js'
import { fileSource } from './file/file-source.js'
import { httpStreamSource } from './http-stream/http-stream-source.js'
import { restSource } from './rest/rest-source.js'
import type { Source, SourceDefinition } from './source.js'

/** The built-in source kinds. A new kind adds its definition (beside its adapter) here. */
export const SOURCE_KINDS = [demoSource, codeSource, restSource, fileSource, httpStreamSource] as const

// `{ preset: 'x.recent_search', ... }` may leave out `kind: 'rest'`, as in the design's example.
export const sourceSchema = z.preprocess(
  (v) => (v && typeof v === 'object' && !('kind' in v) && 'preset' in v ? { kind: 'rest', ...v } : v),
  z.discriminatedUnion('kind', kindSchemas(SOURCE_KINDS)),
)

export type SourceConfig = z.output<typeof sourceSchema>

/**
 * Builds the source named `name` from its validated config. `all` holds every source of the
 * project, so a dependent resource can read another source (a CSV of IMDB ids driving TMDB).
 */
export function createSource(
  name: string,
  config: SourceConfig,
  all: Readonly<Record<string, SourceConfig>> = { [name]: config },
  baseDir = process.cwd(),
): Source {
  const def = (SOURCE_KINDS as readonly SourceDefinition<SourceConfig>[]).find((d) => d.kind === config.kind)
  if (!def) {
    throw new WeirError(`source ${name}: no source kind "${config.kind}"`, {
      code: 'SOURCE_KIND',
      stage: 'source',
    })
  }
  const others = (other: string): Source => {
    const cfg = all[other]
    if (!cfg || other === name) {
      throw new WeirError(`source ${name}: its parent source "${other}" is not in the config`, {
        code: 'SOURCE_CONFIG',
        stage: 'config',
      })
    }
    return createSource(other, cfg, all, baseDir)
  }
  return def.create(name, config, { others, baseDir })
}

/** Whether sources of this kind are long-lived (read until stopped) rather than pulled on a schedule. */
export function isContinuousKind(kind: string): boolean {
  return (SOURCE_KINDS as readonly SourceDefinition<SourceConfig>[]).some(
    (d) => d.kind === kind && d.continuous,
  )
}
