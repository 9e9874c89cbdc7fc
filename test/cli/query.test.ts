import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createEngine } from '../../src/engine/engine.js'
import { weir } from '../helpers/cli.js'
import { tempDir } from '../helpers/services.js'

// Every kind of value a lake holds: text needing quotes, a list, a struct, null, a decimal, a date,
// a timestamp, and an integer beyond 2^53 (exact, never a rounded double).
const SQL = readFileSync('test/fixtures/query/values.sql', 'utf8')

const golden = (name: string) => readFile(join('test/fixtures/query', name), 'utf8')

describe('weir query formats', () => {
  for (const [format, file] of [
    ['table', 'values.table.txt'],
    ['csv', 'values.csv'],
    ['json', 'values.json'],
  ] as const) {
    it(`--format ${format} prints the golden output`, async () => {
      const lake = await tempDir('weir-q-')
      const r = await weir(['query', SQL, '--format', format, '--lake', lake])
      expect(r.stderr).toBe('')
      expect(r.stdout).toBe(await golden(file))
    })
  }

  it('--format parquet (or an --out ending in .parquet) writes a typed file with the same rows', async () => {
    const lake = await tempDir('weir-q-')
    const out = join(lake, 'values.parquet')
    const r = await weir(['query', SQL, '--out', out, '--lake', lake])
    expect(r.stdout).toBe(`wrote 2 rows to ${out}\n`)
    const e = await createEngine()
    const back = await e.query(`select * from '${out}' order by id`)
    expect(back.columns.map((c) => `${c.name} ${c.type}`)).toEqual([
      'id INTEGER',
      'name VARCHAR',
      'list INTEGER[]',
      's STRUCT("k" VARCHAR)',
      'maybe VARCHAR',
      'd DECIMAL(3,2)',
      'day DATE',
      'ts TIMESTAMP',
      'big BIGINT',
    ])
    expect(JSON.stringify(back.rows)).toBe((await golden('values.json')).trim())
    await e.close()
    const noOut = await weir(['query', SQL, '--format', 'parquet', '--lake', lake])
    expect(noOut.code).toBe(1)
    expect(noOut.stderr).toBe('weir: --format parquet writes a file: add --out result.parquet\n')
  })

  it('--out writes csv to a file; a SQL error is one line with its position, exit 1', async () => {
    const lake = await tempDir('weir-q-')
    const out = join(lake, 'values.csv')
    expect((await weir(['query', SQL, '--out', out, '--lake', lake])).code).toBe(0)
    expect(await readFile(out, 'utf8')).toBe(await golden('values.csv'))
    const bad = await weir(['query', 'select 1 as a,\n  b from range(3) t(x)', '--lake', lake])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toBe(
      'weir: SQL failed at line 2, column 3: Binder Error: Referenced column "b" not found in FROM clause! Candidate bindings: "x" (in: select 1 as a, b from range(3) t(x))\n',
    )
  })
})

/**
 * Runs `weir query` in a pseudo-terminal (util-linux script), typing each input once the shell has
 * printed its prompt and gone quiet.
 */
async function terminal(lake: string, history: string, inputs: string[]): Promise<string> {
  const bin = resolve('bin/weir.js')
  const child = spawn('script', ['-qefc', `${process.execPath} ${bin} query --lake ${lake}`, '/dev/null'], {
    env: { ...process.env, WEIR_HISTORY: history, TERM: 'xterm' },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let out = ''
  let last = Date.now()
  child.stdout.on('data', (d) => {
    out += d
    last = Date.now()
  })
  const done = new Promise((r) => child.on('close', r))
  const quiet = async (seen: number) => {
    const deadline = Date.now() + 15_000
    while (
      Date.now() < deadline &&
      (out.length <= seen || !out.includes('weir> ') || Date.now() - last < 250)
    )
      await new Promise((r) => setTimeout(r, 50))
  }
  let seen = 0
  for (const input of inputs) {
    await quiet(seen)
    seen = out.length
    child.stdin.write(input)
  }
  await done
  // What a user would read: without the terminal's cursor movements.
  return out.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '')
}

describe.skipIf(process.platform !== 'linux')('weir query shell', () => {
  it('runs statements over several lines under a terminal, keeps going after an error, and keeps history', async () => {
    const lake = await tempDir('weir-q-')
    const history = join(lake, 'history')
    const first = await terminal(lake, history, [
      'select 40 + 2\r',
      '  as answer;\r',
      'select nope;\r',
      '.quit\r',
    ])
    expect(first).toMatch(/answer\r?\n------\r?\n42\r?\n\(1 row\)/)
    expect(first).toMatch(/error: SQL failed at line 1, column 8: Binder Error: Referenced column "nope"/)
    expect(await readFile(history, 'utf8')).toBe('select 40 + 2 as answer;\nselect nope;\n')
    // A new session recalls the statement before last with the up arrow.
    const second = await terminal(lake, history, ['\u001b[A\u001b[A\r', '.quit\r'])
    expect(second).toMatch(/42\r?\n\(1 row\)/)
  }, 30_000)
})
