import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { configSchema } from '../../src/config/schema.js'
import { runDemo } from '../../src/pipeline/demo.js'
import { openPipeline, type Pipeline } from '../../src/pipeline/pipeline.js'
import { type Serving, startServing } from '../../src/pipeline/serve.js'
import { weir } from '../helpers/cli.js'
import { servicesRequired, tempDir } from '../helpers/services.js'

const CHROMIUM = '/usr/bin/chromium'
const have = existsSync(CHROMIUM)
if (!have) {
  if (servicesRequired)
    throw new Error(`${CHROMIUM} is missing (WEIR_REQUIRE_SERVICES=1; .ci/run installs it)`)
  console.warn(`skipping dashboard tests: no ${CHROMIUM} (apt-get install chromium)`)
}
const ARTIFACTS = 'artifacts/ui'

let p: Pipeline
let s: Serving
let lakeDir = ''
let browser: Browser
let page: Page
const external: string[] = []

beforeAll(async () => {
  if (!have) return
  const lake = join(await tempDir('weir-ui-'), 'lake')
  lakeDir = lake
  await runDemo({ lake })
  p = await openPipeline({
    config: configSchema.parse({ lake }),
    file: undefined,
    dir: await tempDir('weir-ui-project-'),
  })
  s = await startServing(p, { port: 0, host: '127.0.0.1', follow: false })
  await mkdir(ARTIFACTS, { recursive: true })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  // The UI must work offline: any request to another host fails the run.
  page.on('request', (r) => {
    const host = new URL(r.url()).hostname
    if (
      !['127.0.0.1', 'localhost'].includes(host) &&
      !r.url().startsWith('blob:') &&
      !r.url().startsWith('data:')
    )
      external.push(r.url())
  })
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await s?.close()
  await p?.close()
})

const open = async (hash: string, ready: string) => {
  await page.goto(`${s.url}/#/${hash}`)
  await page.waitForSelector(ready, { timeout: 15_000 })
}

describe.skipIf(!have)('the dashboard in Chromium', () => {
  it('overview shows every stage; the lake browser lists the demo tables and a table page shows its sample', async () => {
    await open('overview', '.stage')
    const stages = await page
      .locator('.stage')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-stage')))
    expect(stages).toEqual(['ingest', 'land', 'refine', 'models', 'warehouse', 'alerts', 'serve'])
    // The demo's stages were recorded as runs; its topics have a landing group each, caught up.
    expect(await page.textContent('[data-stage=refine]')).toMatch(/succeeded/)
    expect(await page.textContent('[data-stage=models]')).toMatch(/succeeded/)
    // The sources' runs are the ingest stage's; the page is served, so serve is running.
    expect(await page.textContent('[data-stage=ingest]')).toMatch(/succeeded/)
    expect(await page.textContent('[data-stage=serve]')).toMatch(/running/)
    expect(await page.textContent('main')).toMatch(
      /Consumer groups[\s\S]*landing\s*weather[\s\S]*landing\s*x\s*0/,
    )
    await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: true })

    await open('lake', '.tables a')
    const text = (await page.textContent('main')) ?? ''
    for (const t of [
      'raw.x_tweets',
      'trusted.x_tweets',
      'trusted.x_users',
      'trusted.weather_realtime',
      'refined.fact_tweet',
      'refined.dim_title',
    ])
      expect(text).toContain(t)
    await page.screenshot({ path: join(ARTIFACTS, 'lake.png'), fullPage: true })
    await open('lake/trusted/x_tweets', 'table')
    expect(await page.textContent('main')).toMatch(
      /Schema[\s\S]*public_metrics_like_count[\s\S]*Partitions[\s\S]*dt=[\s\S]*Sample/,
    )
    expect(await page.locator('main table').nth(2).locator('tbody tr').count()).toBeGreaterThan(0)
    await page.screenshot({ path: join(ARTIFACTS, 'table.png'), fullPage: true })
  }, 60_000)

  it('a query typed in the workbench returns the expected rows and draws a chart; a write is refused', async () => {
    const expected = (await p.query('select dt, count(*) as n from trusted.x_tweets group by dt order by dt'))
      .rows
    await open('sql', '.cm-content')
    await page.click('.cm-content')
    await page.keyboard.press('Control+A')
    await page.keyboard.type('select dt, count(*) as n from trusted.x_tweets group by dt order by dt')
    await page.selectOption('select[aria-label="Chart type"]', 'bar')
    await page.keyboard.press('Control+Enter')
    await page.waitForSelector('.grid tbody tr')
    const rows = await page
      .locator('.grid tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)))
    expect(rows).toEqual(expected.map((r) => [String(r.dt), String(r.n)]))
    await page.waitForSelector('.chart-box svg path', { state: 'attached' })
    // One bar per row.
    const bars = await page
      .locator('.chart-box svg path[fill]')
      .evaluateAll((ps) => ps.filter((p) => /Z$/.test(p.getAttribute('d') ?? '')).length)
    expect(bars).toBeGreaterThanOrEqual(expected.length)
    await page.screenshot({ path: join(ARTIFACTS, 'sql.png'), fullPage: true })

    for (const write of [
      "copy (select 1) to '/tmp/weir-ui-x.csv'",
      "attach '/tmp/x.db' as x",
      'install httpfs',
      'create table t as select 1',
      "select * from read_csv('/etc/passwd')",
    ]) {
      await page.click('.cm-content')
      await page.keyboard.press('Control+A')
      await page.keyboard.type(write)
      await page.keyboard.press('Control+Enter')
      await page.waitForSelector('[role=alert]')
      expect(await page.textContent('[role=alert]'), write).toMatch(/not allowed|disabled by configuration/)
    }
  }, 60_000)

  it('each example dashboard renders its charts; nothing is fetched from another host', async () => {
    for (const [name, charts] of [
      ['tweets', 2],
      ['weather', 2],
      ['movies', 4],
    ] as const) {
      await page.goto(`${s.url}/#/dashboards/${name}`)
      await page.waitForSelector('.chart-box svg', { state: 'attached', timeout: 15_000 })
      await page.waitForFunction(
        (n) =>
          (
            globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }
          ).document.querySelectorAll('.chart-box svg').length >= n,
        charts,
      )
      expect(await page.locator('.chart-box svg').count(), name).toBe(charts)
      expect(await page.locator('[role=alert]').count(), name).toBe(0)
      if (name === 'tweets') expect(Number(await page.textContent('.big-number'))).toBeGreaterThan(0)
      await page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true })
    }
    expect(external).toEqual([])
  }, 60_000)

  it('the lineage view links sources → raw → trusted → models with a line per edge', async () => {
    await open('lineage', '.lineage .node')
    await page.waitForSelector('.lineage .edges path', { state: 'attached' })
    const inputs = (id: string) => page.getAttribute(`[data-node="${id}"]`, 'data-inputs')
    expect(await inputs('raw.x_tweets')).toBe('source:x')
    expect(await inputs('trusted.x_tweets')).toBe('raw.x_tweets')
    expect((await inputs('refined.fact_tweet'))?.split(' ')).toContain('trusted.x_tweets')
    expect(await inputs('refined.dim_user')).toBe('trusted.x_users')
    // Every edge the API returns is drawn, between the two boxes it joins.
    const g = (await (await fetch(`${s.url}/api/ui/lineage`)).json()) as { edges: unknown[] }
    expect(await page.locator('.lineage .edges path').count()).toBe(g.edges.length)
    expect(await page.locator('[data-edge="trusted.x_tweets refined.fact_tweet"]').count()).toBe(1)
    await page.screenshot({ path: join(ARTIFACTS, 'lineage.png'), fullPage: true })
  }, 60_000)

  it('the lake page shows rows and freshness per table, filters by name, and warns of tables older than serve.staleAfter', async () => {
    await open('lake', '.tables a')
    expect(await page.locator('[role=alert]').count()).toBe(0)
    const row = page.locator('[data-table="trusted.x_tweets"]')
    const rows = (await p.query('select count(*) as n from trusted.x_tweets')).rows[0]!.n
    expect(await row.locator('td').nth(2).textContent()).toBe(Number(rows).toLocaleString('en-US'))
    expect(await row.locator('.status').textContent()).toBe('fresh')
    expect(await row.locator('td').nth(5).textContent()).not.toBe('') // the newest created_at
    await page.fill('input[type=search]', 'weather')
    const shown = await page
      .locator('[data-table]')
      .evaluateAll((trs) => trs.map((t) => t.getAttribute('data-table')))
    expect(shown.length).toBeGreaterThan(0)
    expect(shown.every((t) => t?.includes('weather'))).toBe(true)
    await page.screenshot({ path: join(ARTIFACTS, 'lake-filtered.png'), fullPage: true })

    // The same lake served with serve.staleAfter 1s: every table is past it, and the page says so.
    await new Promise((r) => setTimeout(r, 1100))
    const strict = await openPipeline({
      config: configSchema.parse({ lake: lakeDir, serve: { staleAfter: '1s' } }),
      file: undefined,
      dir: await tempDir('weir-ui-stale-'),
    })
    const s2 = await startServing(strict, { port: 0, host: '127.0.0.1', follow: false })
    try {
      await page.goto(`${s2.url}/#/lake`)
      await page.waitForSelector('.warning[role=alert]', { timeout: 15_000 })
      expect(await page.textContent('.warning')).toMatch(
        /tables? with no new file for over 1s: .*trusted\.x_tweets/,
      )
      expect(await page.locator('[data-table="trusted.x_tweets"] .status').textContent()).toBe('stale')
      await page.screenshot({ path: join(ARTIFACTS, 'lake-stale.png'), fullPage: true })
    } finally {
      await s2.close()
      await strict.close()
    }
  }, 60_000)

  it('the workbench picks the chart from the result (a date → a line, text → bars) and lets x, y and series be changed', async () => {
    const type = async (sql: string) => {
      await page.click('.cm-content')
      await page.keyboard.press('Control+A')
      await page.keyboard.type(sql)
      await page.keyboard.press('Control+Enter')
      await page.waitForSelector('.grid tbody tr')
    }
    await open('sql', '.cm-content')
    await type('select dt, lang, count(*) as n from trusted.x_tweets group by all order by all')
    expect(await page.textContent('select[aria-label="Chart type"] option[value=auto]')).toBe('auto (line)')
    expect(await page.inputValue('select[aria-label="X axis"]')).toBe('dt')
    await page.waitForSelector('.chart-box svg', { state: 'attached' })
    expect(await page.getAttribute('.chart-box', 'aria-label')).toBe('line chart of n by dt')
    expect(await page.getAttribute('.chart-box', 'data-series')).toBe('1')
    const langs = (await p.query('select count(distinct lang) as k from trusted.x_tweets')).rows[0]!.k
    await page.selectOption('select[aria-label="Series"]', 'lang')
    await page.waitForSelector(`.chart-box[data-series="${langs}"]`, { state: 'attached' })
    await page.selectOption('select[aria-label="Chart type"]', 'bar')
    expect(await page.getAttribute('.chart-box', 'aria-label')).toBe('bar chart of n by dt')
    await page.screenshot({ path: join(ARTIFACTS, 'sql-picker.png'), fullPage: true })

    await page.selectOption('select[aria-label="Chart type"]', 'auto')
    await type(
      'select lang, count(*) as tweets, avg(public_metrics_like_count) as likes from trusted.x_tweets group by lang',
    )
    expect(await page.textContent('select[aria-label="Chart type"] option[value=auto]')).toBe('auto (bar)')
    await page.selectOption('select[aria-label="Y axis"]', ['likes'])
    await page.waitForSelector('.chart-box[aria-label="bar chart of likes by lang"]', { state: 'attached' })
    await type('select count(*) as n from trusted.x_tweets')
    expect(await page.textContent('select[aria-label="Chart type"] option[value=auto]')).toBe('auto (number)')
    expect(await page.locator('.big-number').count()).toBe(1)
  }, 60_000)

  it('a run that ends in another process refreshes the open page (pushed by the server, not a reload or a timer)', async () => {
    await open('runs', 'table.runs tbody tr')
    await page.waitForSelector('#live[data-live=on]')
    const before = await page.locator('table.runs tbody tr').count()
    await page.evaluate(() => {
      ;(globalThis as unknown as { marker: number }).marker = 42
    })
    const r = await weir(['refine', '--lake', lakeDir])
    expect(r.code).toBe(0)
    await page.waitForFunction(
      (n) =>
        (
          globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }
        ).document.querySelectorAll('table.runs tbody tr').length > n,
      before,
      { timeout: 10_000 },
    )
    expect(await page.textContent('table.runs tbody tr')).toMatch(/^refine/)
    // The same page, drawn again in place: no reload cleared it.
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42)
    expect(await page.textContent('#live')).toMatch(/^refine succeeded/)
    // The timeline has a bar per run, coloured by outcome.
    expect(await page.locator('.timeline rect.run').count()).toBe(
      await page.locator('table.runs tbody tr').count(),
    )
    expect(await page.locator('.timeline rect.run.succeeded').count()).toBeGreaterThan(0)
    await page.screenshot({ path: join(ARTIFACTS, 'runs.png'), fullPage: true })
  }, 60_000)

  it('the built-in dashboards are offered only where the lake has the tables they read', async () => {
    const all = (await (await fetch(`${s.url}/api/ui/dashboards`)).json()) as { dashboards: string[] }
    expect(all.dashboards).toEqual(expect.arrayContaining(['movies', 'tweets', 'weather']))
    const empty = await openPipeline({
      config: configSchema.parse({ lake: join(await tempDir('weir-ui-empty-'), 'lake') }),
      file: undefined,
      dir: await tempDir('weir-ui-empty-project-'),
    })
    const s3 = await startServing(empty, { port: 0, host: '127.0.0.1', follow: false })
    try {
      expect(await (await fetch(`${s3.url}/api/ui/dashboards`)).json()).toEqual({ dashboards: [] })
    } finally {
      await s3.close()
      await empty.close()
    }
  })
})
