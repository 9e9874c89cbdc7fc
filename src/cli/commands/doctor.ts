import type { DoctorCheck } from '../../pipeline/doctor.js'
import type { GlobalOptions } from '../context.js'

const MARK: Record<DoctorCheck['status'], string> = { pass: '✓', warn: '!', fail: '✗', skip: '-' }

/**
 * `weir doctor`: one screen of checks, each passed or failed with its fix; exit 1 when one failed
 * (a warning, such as simulated sources, does not fail it).
 */
export async function doctorCommand(
  opts: { format: 'text' | 'json' },
  globals: GlobalOptions,
): Promise<void> {
  const { doctor } = await import('../../pipeline/doctor.js')
  const checks = await doctor({
    ...(globals.config ? { file: globals.config } : {}),
    ...(globals.lake ? { lake: globals.lake } : {}),
  })
  if (opts.format === 'json') process.stdout.write(`${JSON.stringify(checks)}\n`)
  else {
    const width = Math.max(...checks.map((c) => c.check.length))
    const lines = checks.flatMap((c) => [
      `${MARK[c.status]} ${c.check.padEnd(width)}  ${c.detail.replaceAll(`${process.cwd()}/`, '')}`,
      ...(c.fix ? [`  ${' '.repeat(width)}  fix: ${c.fix}`] : []),
    ])
    const count = (s: DoctorCheck['status']) => checks.filter((c) => c.status === s).length
    lines.push(
      `${checks.length} checks: ${count('pass')} passed, ${count('warn')} warnings, ${count('fail')} failed${count('skip') ? `, ${count('skip')} not run` : ''}`,
    )
    process.stdout.write(`${lines.join('\n')}\n`)
  }
  if (checks.some((c) => c.status === 'fail')) process.exitCode = 1
}
