export { type FileSourceConfig, fileSourceSchema } from './file-schema.js'

import { readdir, stat } from 'node:fs/promises'
import { basename, extname, join, resolve, sep } from 'node:path'
import { WeirError } from '../../core/errors.js'
import type { SourceRecord } from '../../core/records.js'
import type { RawFile, Source, SourceBatch, SourceDefinition } from '../source.js'
import { rows } from './file-rows.js'
import { type FileSourceConfig, fileSourceSchema } from './file-schema.js'

interface Seen {
  readonly size: number
  readonly mtimeMs: number
}

/**
 * The cursor of a file source: the files already taken, by path, with the size and time they had,
 * and how far into the file in progress the stream has it (its rows and unreadable lines, counted
 * together), so a restart goes on from there instead of from the file's first line.
 */
export interface FileCursor {
  readonly files: Readonly<Record<string, Seen>>
  readonly current?: Seen & { readonly path: string; readonly items: number }
}

/**
 * Local files as a source, streamed with bounded memory. A file is taken once; a later run takes it
 * again only if its size or time changed. Rows that cannot be read are set aside with the reason.
 */
export function createFileSource(name: string, config: FileSourceConfig, baseDir = process.cwd()): Source {
  return {
    name,
    async *pull(ctx): AsyncGenerator<SourceBatch> {
      const saved = ctx.cursor as FileCursor | undefined
      const seen: Record<string, Seen> = { ...(saved?.files ?? {}) }
      const files = await filesToRead(name, resolve(baseDir, config.path), config.path, saved?.current?.path)
      // How far through this run's files, in bytes, for progress (files taken before count as done).
      const total = await totalBytes(files)
      let before = 0
      for (const file of files) {
        if (ctx.signal.aborted) return
        const s = await stat(file)
        const prev = seen[file]
        const start = before
        before += s.size
        if (prev && prev.size === s.size && prev.mtimeMs === s.mtimeMs) continue
        const [format, resource] = [config.format ?? formatOf(file), resourceOf(config, file)]
        const done = () => {
          seen[file] = { size: s.size, mtimeMs: s.mtimeMs }
          return { files: { ...seen } } satisfies FileCursor
        }
        const at = (items: number): FileCursor => ({
          files: { ...seen },
          current: { path: file, size: s.size, mtimeMs: s.mtimeMs, items },
        })
        // Part of this file is in the stream already, if it is the one a crash or a stop left
        // half read and it has not changed since (a file that changed is read again whole).
        const resume = resumeAt(saved?.current, file, s)
        // Parquet is already columnar and typed: it lands as it is, and refine reads it with DuckDB.
        const asIs = format === 'parquet' ? 'as-is' : config.raw
        if (format === 'parquet' && ctx.asParent) {
          throw new WeirError(
            `source ${name}: ${basename(file)} is Parquet, which cannot be a parent source's rows; use CSV, NDJSON or JSON`,
            { code: 'SOURCE_FORMAT', stage: 'source' },
          )
        }
        if (asIs !== 'rows' && !ctx.asParent) {
          // With both, the file and its rows are two tables: the file's gets the _file suffix.
          const raw: RawFile = {
            resource: asIs === 'both' ? `${resource}_file` : resource,
            path: file,
            format,
            ...(format === 'csv' ? { csv: config.csv } : {}),
          }
          if (asIs === 'as-is') {
            yield { records: [], files: [raw], cursor: done() }
            continue
          }
          if (resume === 0) yield { records: [], files: [raw], cursor: at(0) }
        }
        let batch: SourceRecord[] = []
        let errors: { reason: string; raw: string; resource: string }[] = []
        let items = 0
        const read = { bytes: 0 }
        const progress = () => ({ done: Math.min(before, start + read.bytes), total })
        for await (const item of rows(file, format, config, read)) {
          if (++items <= resume) continue
          if ('error' in item)
            errors.push({ reason: `${basename(file)}: ${item.error}`, raw: item.raw, resource })
          else batch.push({ resource, data: item.row })
          if (batch.length >= config.batchSize) {
            yield {
              records: batch,
              ...(errors.length ? { errors } : {}),
              cursor: at(items),
              progress: progress(),
            }
            batch = []
            errors = []
            // Stopped: the cursor of the batch just published says where the next run goes on.
            if (ctx.signal.aborted) return
          }
        }
        // The file's cursor moves with its last batch, once every row of it is in the stream.
        yield {
          records: batch,
          ...(errors.length ? { errors } : {}),
          cursor: done(),
          progress: { done: before, total },
        }
      }
    },
  }
}

/**
 * Oldest first (then by name), the file a crash or a stop left half read before all: a file that
 * arrives later comes after every file already there, so the batches pulled again from a cursor
 * after a crash are the batches pulled before it, whatever arrived meanwhile.
 */
async function filesToRead(name: string, pattern: string, written: string, first: string | undefined) {
  const found = await inArrivalOrder(await expandGlob(pattern))
  const files = first && found.includes(first) ? [first, ...found.filter((f) => f !== first)] : found
  if (files.length === 0) {
    throw new WeirError(`source ${name}: no file matches ${written}`, {
      code: 'SOURCE_NO_FILES',
      stage: 'source',
    })
  }
  return files
}

function formatOf(file: string): 'csv' | 'ndjson' | 'json' | 'parquet' {
  const ext = extname(file).toLowerCase()
  if (ext === '.parquet') return 'parquet'
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') return 'csv'
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson'
  if (ext === '.json') return 'json'
  throw new WeirError(
    `${file}: cannot tell the format from "${ext}"; set format: csv, ndjson, json or parquet`,
    {
      code: 'SOURCE_FORMAT',
      stage: 'config',
    },
  )
}

async function inArrivalOrder(files: readonly string[]): Promise<string[]> {
  const times = new Map<string, number>()
  for (const f of files) times.set(f, (await stat(f).catch(() => undefined))?.mtimeMs ?? 0)
  return [...files].sort((a, b) => times.get(a)! - times.get(b)! || (a < b ? -1 : a > b ? 1 : 0))
}

/** `*` matches within one folder and `**` across folders; a plain path is itself. */
export async function expandGlob(pattern: string): Promise<string[]> {
  if (!/[*?]/.test(pattern)) return (await stat(pattern).catch(() => undefined)) ? [pattern] : []
  const parts = pattern.split(sep)
  const firstWild = parts.findIndex((p) => /[*?]/.test(p))
  const root = parts.slice(0, firstWild).join(sep) || sep
  const rest = parts.slice(firstWild).join('/')
  const re = new RegExp(
    `^${rest
      .split('/')
      .map((seg) =>
        seg === '**'
          ? '(?:.*/)?'
          : `${seg
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '[^/]*')
              .replace(/\?/g, '[^/]')}/`,
      )
      .join('')
      .replace(/\/$/, '')
      .replace(/\(\?:\.\*\/\)\?$/, '.*')}$`,
  )
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter((f) =>
      re.test(
        f
          .slice(root.length + (root.endsWith(sep) ? 0 : 1))
          .split(sep)
          .join('/'),
      ),
    )
    .sort()
}

export const fileSource = {
  kind: 'file',
  schema: fileSourceSchema,
  create: (name, config, env) => createFileSource(name, config, env.baseDir),
} satisfies SourceDefinition<FileSourceConfig>

/** Every file's rows are one resource (`resource`), or each file's its own, named after it. */
function resourceOf(config: FileSourceConfig, file: string): string {
  return (
    config.resource ??
    basename(file, extname(file))
      .replace(/[^A-Za-z0-9_]/g, '_')
      .toLowerCase()
  )
}

async function totalBytes(files: readonly string[]): Promise<number> {
  return (await Promise.all(files.map((f) => stat(f).then((s) => s.size)))).reduce((a, b) => a + b, 0)
}

/** Rows of this file already in the stream: the cursor's, if a run stopped in it and it has not changed since. */
function resumeAt(c: FileCursor['current'], file: string, s: { size: number; mtimeMs: number }): number {
  return c && c.path === file && c.size === s.size && c.mtimeMs === s.mtimeMs ? c.items : 0
}
