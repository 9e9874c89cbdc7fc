#!/usr/bin/env node
import('../dist/cli/bin.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/bin.js')) {
    process.stderr.write('weir: not built yet; run `npm run build` (npm ci does it for you)\n')
  } else {
    process.stderr.write(`weir: ${err?.message ? err.message : err}\n`)
  }
  process.exitCode = 1
})
