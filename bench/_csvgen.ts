import { csvIngest } from './csv-ingest.js'

console.log(JSON.stringify(await csvIngest(process.argv[2]!, 100)))
