import { execFile, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { weir } from '../helpers/cli.js'
import { servicesRequired, tempDir } from '../helpers/services.js'

const BIN = resolve('bin/weir.js')

/** Has `script` (util-linux), which runs a command on a pseudo-terminal: a real terminal to Weir. */
async function hasScript(): Promise<boolean> {
  try {
    await promisify(execFile)('script', ['--version'])
    return true
  } catch {
    if (servicesRequired) throw new Error('script (util-linux) is needed for the terminal tests')
    console.warn('skipping the terminal tests: no `script` (util-linux) to make a pseudo-terminal')
    return false
  }
}

/**
 * Runs weir on a pseudo-terminal 160 columns wide and returns what the terminal got, its control
 * sequences turned into line breaks (each redraw of a progress line becomes a line of its own).
 */
function onTerminal(args: string, cwd: string, until?: RegExp): Promise<{ code: number; lines: string[] }> {
  // Under a time limit either way, so that a test never leaves weir running.
  const cmd = `stty cols 160; timeout --foreground -s INT 60 node ${BIN} ${args}`
  return new Promise((done, fail) => {
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let stopping = false
    child.stdout.on('data', (d) => {
      out += d
      // Ctrl+C, as a user would: weir stops its jobs and exits.
      if (until && !stopping && until.test(out)) {
        stopping = true
        spawn('pkill', ['-INT', '-f', `^node ${BIN} ${args}`])
      }
    })
    child.on('error', fail)
    child.on('close', (code) =>
      done({
        code: code ?? -1,
        lines: out
          .replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '\n')
          .split(/[\r\n]+/)
          .map((l) => l.replace(/[░█]/g, '').trimEnd())
          .filter(Boolean),
      }),
    )
  })
}

describe('progress and logs on a terminal and off it', () => {
  let dir = ''
  let terminal = false
  beforeAll(async () => {
    terminal = await hasScript()
    dir = await tempDir('weir-progress-')
    await mkdir(join(dir, 'data'))
    await writeFile(
      join(dir, 'weir.yaml'),
      'lake: ./lake\nsources:\n  big:\n    kind: file\n    path: data/big.csv\n',
    )
    // A 400,000-row CSV (21 MB): long enough for a few frames of progress.
    const out = createWriteStream(join(dir, 'data', 'big.csv'))
    out.write('id,name,amount,city,at\n')
    for (let i = 0; i < 400_000; i++)
      out.write(`${i},name ${i},${i % 997}.5,city ${i % 50},2026-11-0${1 + (i % 9)}T10:00:00Z\n`)
    await new Promise((r) => out.end(r))
  })

  it('weir ingest of a large file on a terminal draws its progress (bytes, percentage, rate, ETA, records), then the summary', async () => {
    if (!terminal) return
    const { code, lines } = await onTerminal('ingest', dir)
    expect(code).toBe(0)
    const frames = lines.filter((l) => l.startsWith('ingest big '))
    expect(frames.length).toBeGreaterThanOrEqual(2)
    expect(frames[0]).toMatch(
      /^ingest big +\[\] \d+% {2}[\d.]+ [KM]B of 21 MB {2}[\d.]+ [KM]B\/s {2}ETA \d+s {2}[\d,]+ records$/,
    )
    expect(lines.at(-1)).toMatch(/^ingest +400,000 records/)
  })

  it('the same commands without a terminal print only JSON lines, or only text lines with --log-format text', async () => {
    const json = await weir(['ingest', '--lake', 'lake2'], {}, dir)
    expect(json.code).toBe(0)
    const out = json.stdout.trim().split('\n')
    expect(out).toHaveLength(1)
    const summary = JSON.parse(out[0]!)
    expect(summary).toMatchObject({ level: 'info', event: 'summary', stage: 'ingest', records: 400_000 })
    expect(String(summary.seconds)).toMatch(/^\d+(\.\d{1,3})?$/)
    for (const line of json.stderr.trim().split('\n').filter(Boolean))
      expect(() => JSON.parse(line)).not.toThrow()

    const text = await weir(['land', '--lake', 'lake2', '--log-format', 'text'], {}, dir)
    expect(text.code).toBe(0)
    expect(text.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^land +400,000 records +4 files/)])
    expect(text.stdout + text.stderr).not.toMatch(/ETA|\{"/)

    const quiet = await weir(['refine', '--lake', 'lake2', '--quiet'], {}, dir)
    expect([quiet.code, quiet.stdout, quiet.stderr]).toEqual([0, '', ''])
  })

  it('weir run on a terminal says when each job runs next, what starts and ends with durations, landing as it lands, and the tests after models', async () => {
    if (!terminal) return
    const run = await tempDir('weir-progress-run-')
    await writeFile(
      join(run, 'weir.yaml'),
      `lake: ./lake
sources:
  big:
    kind: file
    path: data.csv
landing: { maxAge: 1s }
run:
  jobs:
    big: { schedule: rate(1 hour) }
`,
    )
    const rows = Array.from({ length: 20_000 }, (_, i) => `${i},city ${i % 50}`)
    await writeFile(join(run, 'data.csv'), `id,city\n${rows.join('\n')}\n`)
    await mkdir(join(run, 'models'))
    await writeFile(
      join(run, 'models', 'by_city.sql'),
      "{{ config(materialized='table') }}\nselect city, count(*) as n from {{ source('big', 'data') }} group by city\n",
    )
    await writeFile(
      join(run, 'models', 'schema.yml'),
      'version: 2\nmodels:\n  - name: by_city\n    columns:\n      - name: city\n        tests: [unique, not_null]\n',
    )
    const { lines } = await onTerminal(
      `run --lake ${join(run, 'lake')}`,
      run,
      /models +(succeeded|failed)[^\n]*\n/,
    )
    const at = (job: string, event: string) =>
      lines.find((l) => new RegExp(`^\\d\\d:\\d\\d:\\d\\d  ${job} +${event} `).test(l))
    expect(at('big', 'scheduled')).toMatch(/next \d\d:\d\d:\d\d \(rate\(1 hour\)\)$/)
    expect(at('big', 'started')).toMatch(/\(at start\)$/)
    expect(at('big', 'succeeded')).toMatch(/20,000 records .* [\d.]+ s {2}next \d\d:\d\d:\d\d$/)
    expect(at('land', 'landed')).toMatch(/[\d,]+ records {2}[\d,]+ files$/)
    expect(at('models', 'succeeded')).toMatch(/1 models \(1 built\), tests: 2 passed, 0 warnings/)
    expect(lines.some((l) => /\{"time"/.test(l))).toBe(false)
  }, 90_000)
})
