import { main } from './main.js'

// The AWS SDK prints a nine-line notice on Node 20 about its releases of 2027; Weir supports Node 20
// with the SDK it ships, and a CLI's output is its own (set the variable to "false" to see it).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

// `weir … | head` closes the pipe early: that is the reader's choice, not a failure to report.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw err
})

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
