import { execFileSync } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createEngine, sqlString } from '../src/engine/engine.js'
import { parsePaths } from './csv-parse-paths.js'
import { type BenchResult, seconds } from './types.js'

/**
 * A `|`-separated CSV with quoted fields and \N nulls, landed as-is and emitted row by row into
 * the embedded stream, in a child process whose peak RSS is the figure (target: under 300 MB for
 * 1 GB). Baseline: DuckDB converting the same file to NDJSON (parse and serialise every row) in the same run.
 */
export async function csvIngest(dir: string, megabytes: number): Promise<BenchResult> {
  const file = join(dir, 'movies.csv')
  await generate(file, megabytes * 1_000_000)
  const size = (await stat(file)).size
  await mkdir(join(dir, 'lake'), { recursive: true })
  const out = execFileSync(
    process.execPath,
    ['--import', 'jiti/register', 'bench/csv-child.ts', file, join(dir, 'lake'), join(dir, 'stream')],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  )
  const child = JSON.parse(out) as { records: number; seconds: number; maxRssMB: number }
  // The same work in DuckDB: parse every row and write it out as one JSON object a line.
  const engine = await createEngine()
  let rows = 0
  const base = await seconds(async () => {
    const { rows: r } = await engine.query(
      `COPY (SELECT * FROM read_csv(${sqlString(file)}, delim = '|', header = true, nullstr = '\\N', all_varchar = true))
       TO ${sqlString(join(dir, 'duckdb.ndjson'))} (FORMAT json)`,
    )
    rows = Number(r[0]?.Count)
  })
  await engine.close()
  const paths = await parsePaths(file, 1_000_000)
  const rate = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 0 })
  if (rows !== child.records)
    throw new Error(`csv bench: weir emitted ${child.records} rows, DuckDB read ${rows}`)
  return {
    name: 'csv-ingest',
    unit: 'rows/s',
    value: child.records / child.seconds,
    baseline: { name: 'DuckDB COPY of the same CSV to NDJSON', value: rows / base },
    ratio: child.records / child.seconds / (rows / base),
    notes: `${(size / 1e9).toFixed(2)} GB, ${rows.toLocaleString('en-US')} rows landed as-is and published row by row in ${child.seconds.toFixed(1)} s; peak RSS ${Math.round(child.maxRssMB)} MB (target < 300 MB); parsing alone, first ${paths.rows.toLocaleString('en-US')} rows: csv-parse ${rate(paths.csvParse)} rows/s, DuckDB read_csv into JavaScript objects ${rate(paths.duckdbObjects)} rows/s, as JSON texts ${rate(paths.duckdbJson)} rows/s, those texts parsed ${rate(paths.duckdbJsonParsed)} rows/s`,
    details: {
      bytes: size,
      rows,
      peakRssMB: child.maxRssMB,
      weirSeconds: child.seconds,
      duckdbSeconds: base,
      parsePaths: paths,
    },
  }
}

/** Rows shaped like the seed's movies.csv: ids, quoted titles with delimiters and quotes, \N nulls. */
async function generate(file: string, bytes: number): Promise<void> {
  const out = createWriteStream(file)
  const write = (s: string) => new Promise<void>((r) => (out.write(s) ? r() : out.once('drain', () => r())))
  await write(
    'id|tituloPincipal|tituloOriginal|anoLancamento|tempoMinutos|genero|notaMedia|numeroVotos|personagem|nomeArtista\n',
  )
  let written = 0
  let i = 0
  while (written < bytes) {
    let chunk = ''
    for (let k = 0; k < 2000; k++, i++) {
      const id = `tt${String(i).padStart(7, '0')}`
      const title = i % 7 === 0 ? `"Movie ${i} | the ""sequel"""` : `Movie ${i}`
      const genre = i % 5 === 0 ? '\\N' : ['Drama', 'Comedy', 'Romance'][i % 3]
      chunk += `${id}|${title}|Original ${i}|${1900 + (i % 120)}|${60 + (i % 120)}|${genre}|${(i % 100) / 10}|${i % 50_000}|${i % 11 === 0 ? '\\N' : `Character ${i}`}|Artist ${i % 9973}\n`
    }
    await write(chunk)
    written += Buffer.byteLength(chunk)
  }
  await new Promise<void>((r) => out.end(() => r()))
}
