import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

/**
 * Lets `fetch` read `file://` URLs, with Range requests answered as a server would (206 and the
 * bytes asked for), and, given an S3 emulator, AWS's S3 URLs from it: readers of a lake made for
 * object stores (icebird, hyparquet) fetch its files.
 * Returns the function that puts the real `fetch` back.
 */
export function fetchLocalFiles(s3Endpoint?: string): () => void {
  const real = globalThis.fetch
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    // Readers turn s3://bucket/key into AWS's https://bucket.s3.amazonaws.com/key: the emulator's instead.
    const aws = s3Endpoint && /^https:\/\/([^./]+)\.s3\.amazonaws\.com\/(.*)$/.exec(url)
    if (aws) return real(`${s3Endpoint}/${aws[1]}/${aws[2]}`, init)
    if (!url.startsWith('file://')) return real(input, init)
    let body: Buffer
    try {
      body = await readFile(fileURLToPath(url))
    } catch {
      return new Response('not found', { status: 404, statusText: 'Not Found' })
    }
    const range = new Headers(init?.headers).get('range')
    const m = range ? /bytes=(\d+)-(\d*)/.exec(range) : null
    if (init?.method === 'HEAD')
      return new Response(null, { status: 200, headers: { 'content-length': String(body.length) } })
    if (!m) return new Response(body, { status: 200, headers: { 'content-length': String(body.length) } })
    const start = Number(m[1])
    const end = m[2] ? Number(m[2]) + 1 : body.length
    return new Response(body.subarray(start, end), {
      status: 206,
      headers: { 'content-range': `bytes ${start}-${end - 1}/${body.length}` },
    })
  }) as typeof fetch
  return () => {
    globalThis.fetch = real
  }
}
