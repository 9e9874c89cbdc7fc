import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WeirError } from '../../core/errors.js'
import { copyExample } from './init-example.js'

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url))

const CONFIG = `// A Weir project: tweets and weather into a local lake, refined, modelled.
// Until real credentials are set (in .env, see .env.example, or the environment), the sources are
// served by Weir's built-in API simulator, started in-process: \`weir run --once\` works with no
// account and no network. (An empty variable, as .env.example leaves them, counts as unset.)
import { defineConfig } from 'weir-lake'

export default defineConfig({
  lake: '\${WEIR_LAKE:-./lake}',
  sources: {
    // A credential of "simulator" (the default until X_BEARER_TOKEN is set) means Weir's simulator;
    // an empty X_API_URL is the real API's own address (set it for a proxy or a stand-in).
    x: {
      preset: 'x.recent_search',
      baseUrl: '\${X_API_URL:-}',
      auth: { bearer: '\${X_BEARER_TOKEN:-simulator}' },
      params: { query: ['#dataengineering -is:retweet'] },
    },
    weather: {
      preset: 'tomorrow.realtime',
      baseUrl: '\${TOMORROW_API_URL:-}',
      auth: { apiKey: '\${TOMORROW_API_KEY:-simulator}' },
      params: { location: ['toronto', 'lisbon', 'phoenix'] },
    },
  },
  tables: {
    'x.tweets': { eventTime: 'created_at', primaryKey: 'id' },
    'x.users': { primaryKey: 'id' },
    'weather.realtime': { eventTime: 'data.time' },
  },
  landing: { maxRecords: 1000, maxAge: '60s' },
  run: {
    // rate(...), EventBridge cron(...) or a 5-field cron; models build after each refine.
    jobs: {
      x: { schedule: 'rate(15 minutes)' },
      weather: { schedule: 'rate(1 hour)' },
    },
  },
})
`

const ENV = `# Copy to .env. Real APIs: set these (here, or in the environment) and the sources leave the simulator.
X_BEARER_TOKEN=
TOMORROW_API_KEY=
# Another address for an API (a proxy, a stand-in):
# X_API_URL=https://api.x.com
# WEIR_LAKE=s3://my-bucket/lake
`

/** The project's package.json: Weir as a dependency, so `npx weir` and the config's import resolve here. */
const packageJson = (name: string, version: string) =>
  `${JSON.stringify(
    {
      name,
      private: true,
      type: 'module',
      scripts: { once: 'weir run --once', start: 'weir run' },
      devDependencies: { 'weir-lake': `^${version}` },
    },
    null,
    2,
  )}\n`

const README = `# A Weir project

With Weir installed for this project (\`npm install\`: it is in package.json), run it with \`npx weir\`;
with Weir installed globally (\`npm install -g weir-lake\`), just \`weir\`:

\`\`\`bash
weir run --once      # pull, land, refine, build the models and run their tests, then exit
weir run             # keep going on the schedules in weir.config.ts (Ctrl+C stops cleanly)
weir query "select * from refined.fact_tweet_metrics_daily order by likes desc limit 10"
weir runs            # what ran, when, and how it ended
\`\`\`

- \`weir.config.ts\`: sources, tables, schedules. Until \`X_BEARER_TOKEN\` and \`TOMORROW_API_KEY\` are
  set (copy \`.env.example\` to \`.env\`), the sources are served by Weir's API simulator.
- \`models/\`: SQL models (\`{{ ref('...') }}\`, \`{{ source('x', 'tweets') }}\`) and their tests in YAML;
  \`snapshots/\`: history of changing rows; \`tests/\`: SQL that selects failing rows.
- \`lake/\`: raw, trusted and refined zones, the catalog and the state. Delete it to start over.
`

/**
 * `weir init <dir> [--example name]`: a new project whose sources run on the built-in simulator until
 * credentials are set; with --example, one of the examples as a project of its own.
 */
export async function initCommand(dir: string, opts: { example?: string } = {}): Promise<void> {
  const root = resolve(dir)
  const existing = await readdir(root).catch(() => [] as string[])
  if (existing.length) {
    throw new WeirError(`${dir} is not empty; give weir init a new or empty folder`, {
      code: 'INIT_NOT_EMPTY',
      stage: 'cli',
    })
  }
  await mkdir(root, { recursive: true })
  const name =
    basename(root)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-') || 'weir-project'
  const own = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  if (opts.example) {
    const written = await copyExample(EXAMPLES, opts.example, root)
    await writeFile(join(root, 'package.json'), packageJson(name, own.version))
    await writeFile(join(root, '.gitignore'), 'lake/\n.env\nnode_modules/\n')
    process.stdout.write(
      `created ${dir} from the example ${opts.example}: ${[...written, 'package.json'].join(', ')}\nnext: cd ${dir} && weir run --once   (or, with Weir installed in the project by npm install: npx weir run --once)\n`,
    )
    return
  }
  await writeFile(join(root, 'weir.config.ts'), CONFIG)
  await writeFile(join(root, '.env.example'), ENV)
  await writeFile(join(root, 'README.md'), README)
  await writeFile(join(root, '.gitignore'), 'lake/\n.env\nnode_modules/\n')
  await writeFile(join(root, 'package.json'), packageJson(name, own.version))
  for (const part of ['models/tweets', 'models/weather', 'snapshots', 'tests'])
    await cp(join(EXAMPLES, part), join(root, part), { recursive: true })
  process.stdout.write(
    `created ${dir}: weir.config.ts, package.json, models/, snapshots/, tests/, .env.example, README.md\nnext: cd ${dir} && weir run --once   (or, with Weir installed in the project by npm install: npx weir run --once)\n`,
  )
}
