import { main } from './main.js'

// Set the code and let Node exit on its own, so pending stdout writes are flushed first.
main(process.argv.slice(2)).then(
  (code) => {
    // A command may have set its own code (130 after Ctrl+C); a failure's code wins over it.
    process.exitCode = code === 0 ? (process.exitCode ?? 0) : code
  },
  (err: unknown) => {
    process.stderr.write(`weir: ${String(err)}\n`)
    process.exitCode = 1
  },
)
