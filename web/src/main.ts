import { el } from './dom.js'
import { dashboardPage, dashboardsPage } from './pages/dashboards.js'
import { lakePage, tablePage } from './pages/lake.js'
import { lineagePage } from './pages/lineage.js'
import { overviewPage } from './pages/overview.js'
import { runsPage } from './pages/runs.js'
import { sqlPage } from './pages/sql.js'
import './style.css'

const app = document.getElementById('app')!

/**
 * The pages, by URL hash: the app is one page that the server hands out for any path. `quiet`
 * redraws in place (a pushed refresh), without the loading line.
 */
async function route(quiet = false): Promise<void> {
  const [page = 'overview', ...rest] = location.hash.replace(/^#\/?/, '').split('/')
  for (const a of document.querySelectorAll('nav a'))
    a.toggleAttribute('aria-current', a.getAttribute('href') === `#/${page}`)
  if (!quiet) app.replaceChildren(el('p', { class: 'loading' }, 'Loading…'))
  try {
    if (page === 'lake' && rest.length === 2) await tablePage(app, rest[0]!, decodeURIComponent(rest[1]!))
    else if (page === 'lake') await lakePage(app)
    else if (page === 'lineage') await lineagePage(app)
    else if (page === 'sql') sqlPage(app)
    else if (page === 'runs') await runsPage(app)
    else if (page === 'dashboards' && rest[0]) await dashboardPage(app, decodeURIComponent(rest[0]))
    else if (page === 'dashboards') await dashboardsPage(app)
    else await overviewPage(app)
  } catch (err) {
    app.replaceChildren(el('p', { class: 'error', role: 'alert' }, (err as Error).message))
  }
}

/**
 * The server pushes each run's end (Server-Sent Events): the page on screen is drawn again then,
 * not on a timer. The SQL workbench is left as it is (its editor and result are the user's).
 */
function followRuns(): void {
  const key = localStorage.getItem('weir.apiKey')
  const events = new EventSource(`./api/ui/events${key ? `?key=${encodeURIComponent(key)}` : ''}`)
  const status = document.getElementById('live')
  events.addEventListener('ready', () => status?.setAttribute('data-live', 'on'))
  events.addEventListener('error', () => status?.setAttribute('data-live', 'off'))
  events.addEventListener('run', (e) => {
    const run = JSON.parse((e as MessageEvent<string>).data) as { id: string; job: string; outcome: string }
    if (status) status.textContent = `${run.job} ${run.outcome} ${new Date().toLocaleTimeString()}`
    document.body.dataset.lastRun = run.id
    if (!location.hash.startsWith('#/sql')) void route(true)
  })
}

window.addEventListener('hashchange', () => void route())
void route()
followRuns()
