import { createLocalStore } from '../../src/storage/local/local-store.js'
import { tempDir } from '../helpers/services.js'
import { landingSuite } from './landing.suite.js'

landingSuite('a local lake', async () => createLocalStore(await tempDir('weir-lake-')))
