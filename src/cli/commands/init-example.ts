import { cp, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { WeirError } from '../../core/errors.js'

/** The examples `weir init --example` can copy: folders of the package's examples/ with a config. */
export async function exampleNames(examples: string): Promise<string[]> {
  const names: string[] = []
  for (const d of await readdir(examples, { withFileTypes: true }).catch(() => []))
    if (d.isDirectory() && (await readdir(join(examples, d.name))).includes('weir.config.ts'))
      names.push(d.name)
  return names.sort()
}

/**
 * One of the examples as a project of its own: its folder, and the shared folders its config names
 * as `../x` copied in beside it (the config then says `./x`); `.env.example` lists the variables the
 * config reads. Returns what was written, for the closing line.
 */
export async function copyExample(examples: string, name: string, root: string): Promise<string[]> {
  const names = await exampleNames(examples)
  if (!names.includes(name))
    throw new WeirError(`no example ${name}; examples: ${names.join(', ')}`, {
      code: 'INIT_NO_EXAMPLE',
      stage: 'cli',
    })
  const from = join(examples, name)
  await cp(from, root, { recursive: true })
  const config = await readFile(join(from, 'weir.config.ts'), 'utf8')
  const shared = [...new Set([...config.matchAll(/'\.\.\/([\w-]+(?:\/[\w-]+)*)'/g)].map((m) => m[1]!))]
  for (const dir of shared) await cp(join(examples, dir), join(root, dir), { recursive: true })
  await writeFile(join(root, 'weir.config.ts'), config.replaceAll("'../", "'./"))
  // Inside the repository the README says to cd into the example first; here the project is it.
  const readme = await readFile(join(from, 'README.md'), 'utf8').catch(() => undefined)
  if (readme !== undefined)
    await writeFile(join(root, 'README.md'), readme.replace(/^cd examples\/[\w-]+\n/m, ''))
  const vars = [
    ...new Set(
      [...config.matchAll(/process\.env\.([A-Z][A-Z0-9_]*)|\$\{([A-Z][A-Z0-9_]*)(?::-[^}]*)?\}/g)].map(
        (m) => (m[1] ?? m[2])!,
      ),
    ),
  ]
  await writeFile(
    join(root, '.env.example'),
    `# Copy to .env: the variables weir.config.ts reads. Empty ones count as unset.\n${vars.map((v) => `${v}=`).join('\n')}\n`,
  )
  return ['weir.config.ts', ...(await readdir(root)).filter((f) => f !== 'weir.config.ts').sort()]
}
