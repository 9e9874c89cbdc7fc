import { createHmac } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

/** An SMTP server that keeps every message it receives (smtp-server, no auth, no TLS). */
export async function startSmtp() {
  const mails: { subject: string; text: string; to: string[]; at: number }[] = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((m) => {
          mails.push({
            subject: m.subject ?? '',
            text: m.text ?? '',
            to: session.envelope.rcptTo.map((r) => r.address),
            at: Date.now(),
          })
          callback()
        })
        .catch(callback)
    },
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.server.address() as AddressInfo
  return { port, mails, close: () => new Promise<void>((r) => server.close(() => r())) }
}

/** An HTTP server that records every request; `status` decides the answer. */
export async function startReceiver(
  status: (req: IncomingMessage, body: string) => number = () => 200,
  answer = '',
) {
  const requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => {
      body += d
    })
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      res.writeHead(status(req, body), {
        'content-type': answer.startsWith('<') ? 'text/xml' : 'application/json',
      })
      res.end(answer || '{}')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

export const reading = (city: string, temperature: number, time = '2026-11-22T10:00:00Z') => ({
  value: Buffer.from(
    JSON.stringify({ data: { time, values: { temperature, humidity: 50 } }, location: { name: city } }),
  ),
  headers: { resource: 'realtime' },
})
