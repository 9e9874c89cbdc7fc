// Runs s3rver's own command line with one fix: a PUT is atomic, as on S3. s3rver streams the body
// straight into the object's file, truncating it first, so a client killed mid-PUT (what the crash
// tests do) left an empty or cut object, which S3 never does (the old object stays until the new
// one is whole). Here the body is read whole, written beside the object and renamed over it; a
// body that never ends leaves the object as it was.
const crypto = require('node:crypto')
const fs = require('node:fs/promises')
const path = require('node:path')
const Store = require('s3rver/lib/stores/filesystem.js')

function readWhole(stream) {
  return new Promise((resolve, reject) => {
    const chunks = []
    stream.on('data', (c) => chunks.push(c))
    stream.on('end', () => resolve(Buffer.concat(chunks)))
    stream.on('error', reject)
    stream.on('aborted', () => reject(new Error('request body aborted')))
  })
}

Store.prototype.putObject = async function putObject(object) {
  const content = Buffer.isBuffer(object.content) ? object.content : await readWhole(object.content)
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object')
  await fs.mkdir(path.dirname(objectPath), { recursive: true })
  // Listings keep only names ending in the object suffix: the temporary file is never listed.
  const tmp = path.join(path.dirname(objectPath), `.partial-${crypto.randomUUID()}`)
  await fs.writeFile(tmp, content)
  await fs.rename(tmp, objectPath)
  const md5 = crypto.createHash('md5').update(content).digest('hex')
  await this.putMetadata(object.bucket, object.key, object.metadata, md5)
  return { size: content.length, md5 }
}

require('s3rver/bin/s3rver.js')
