// Run as its own process by bench/ui.ts (playwright-core does not load under the bench's TS loader):
// cold page loads of the overview and a 4-chart dashboard, in seconds, as JSON.
import { chromium } from 'playwright-core'

const [url] = process.argv.slice(2)
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
})
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
const time = async (hash, ready) => {
  await page.goto('about:blank')
  const t0 = performance.now()
  await page.goto(`${url}/#/${hash}`)
  try {
    await ready()
  } catch (err) {
    process.stderr.write(`${hash}: ${(await page.textContent('main'))?.slice(0, 500)}\n`)
    throw err
  }
  return (performance.now() - t0) / 1000
}
const overview = []
const dashboard = []
for (let i = 0; i < 3; i++) {
  overview.push(await time('overview', () => page.waitForSelector('.stage')))
  dashboard.push(
    await time('dashboards/bench', () =>
      page.waitForFunction(() => document.querySelectorAll('.chart-box svg').length === 4),
    ),
  )
}
await browser.close()
process.stdout.write(JSON.stringify({ overview, dashboard }))
