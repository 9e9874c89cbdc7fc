import { createReadStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import type { PoolClient } from 'pg'

/** Streams a CSV file into a COPY ... FROM STDIN. */
export async function copyIn(client: PoolClient, sql: string, file: string): Promise<void> {
  const { from } = await import('pg-copy-streams')
  await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), client.query(from(sql)))
}

/** A type as PostgreSQL names it, for comparing. */
export function normalize(type: string): string {
  return type.replace(/\s+/g, ' ').toLowerCase()
}

export function q(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}
