import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { configSchema } from '../../src/config/schema.js'
import { runDemo } from '../../src/pipeline/demo.js'
import { openPipeline, type Pipeline } from '../../src/pipeline/pipeline.js'
import { type Serving, startServing } from '../../src/pipeline/serve.js'
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
let browser: Browser
let page: Page
const external: string[] = []

beforeAll(async () => {
  if (!have) return
  const lake = join(await tempDir('weir-ui-'), 'lake')
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
})
