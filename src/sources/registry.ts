import type { SourceConfig } from '../config/schema.js'
import { WeirError } from '../core/errors.js'
import { codeSource } from './code/code-source.js'
import { demoSource } from './demo/demo-source.js'
import type { Source, SourceDefinition } from './source.js'

/** The built-in source kinds. A new kind adds its definition here and its schema to config/schema.ts. */
export const SOURCE_KINDS: readonly SourceDefinition<SourceConfig>[] = [
  demoSource as SourceDefinition<SourceConfig>,
  codeSource as SourceDefinition<SourceConfig>,
]

/** Builds the source named `name` from its validated config. */
export function createSource(name: string, config: SourceConfig): Source {
  const def = SOURCE_KINDS.find((d) => d.kind === config.kind)
  if (!def) {
    throw new WeirError(`source ${name}: no source kind "${config.kind}"`, {
      code: 'SOURCE_KIND',
      stage: 'source',
    })
  }
  return def.create(name, config)
}
