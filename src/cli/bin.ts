import { main } from './main.js'

// Set the code and let Node exit on its own, so pending stdout writes are flushed first.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`weir: ${String(err)}\n`)
    process.exitCode = 1
  },
)
