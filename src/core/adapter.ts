import type { z } from 'zod'
import { WeirError } from './errors.js'

/**
 * One adapter of a port, registered the same way for every port: its `kind`, the zod schema of
 * its config (pure, so `config/schema.ts` and the docs can use it without loading the adapter),
 * and a `create` that imports the adapter and its SDK only when called.
 *
 * @example
 * export const natsStream = defineAdapter({ kind: 'nats', schema, async create(cfg, ctx) { ... } })
 */
export interface AdapterDefinition<Schema extends z.ZodType, Context, Port> {
  readonly kind: string
  readonly schema: Schema
  create(config: z.output<Schema>, context: Context): Port
}

/** Keeps a definition's types as written (the identity: the registry is a plain list). */
export function defineAdapter<Schema extends z.ZodType, Context, Port>(
  definition: AdapterDefinition<Schema, Context, Port>,
): AdapterDefinition<Schema, Context, Port> {
  return definition
}

/** The schemas of a registry's definitions, as the tuple `z.discriminatedUnion` wants. */
export function kindSchemas<D extends readonly { readonly schema: z.ZodType }[]>(
  definitions: D,
): { [K in keyof D]: D[K]['schema'] } {
  return definitions.map((d) => d.schema) as { [K in keyof D]: D[K]['schema'] }
}

/** The definition of `kind` in a registry; the config schema makes a miss a programmer's error. */
export function adapterFor<D extends { readonly kind: string }>(
  definitions: readonly D[],
  kind: string,
  port: string,
): D {
  const definition = definitions.find((d) => d.kind === kind)
  if (definition) return definition
  throw new WeirError(`no ${port} kind "${kind}"; known: ${definitions.map((d) => d.kind).join(', ')}`, {
    code: 'CONFIG_INVALID',
    stage: 'config',
  })
}
