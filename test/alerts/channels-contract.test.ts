import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { CHANNEL_KINDS, channelSchema } from '../../src/alerts/channels/registry.js'
import { type ChannelHarness, channelContract } from '../contract/channel.contract.js'
import { freePort } from '../helpers/services.js'
import { startReceiver, startSmtp } from './helpers.js'

const SNS_OK = `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>`
const SNS_DENIED = `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>not authorized</Message></Error><RequestId>r-2</RequestId></ErrorResponse>`

const env = { AWS_ACCESS_KEY_ID: 'AKIDCONTRACT', AWS_SECRET_ACCESS_KEY: 'contract-secret-key' }
const saved: Record<string, string | undefined> = {}
beforeAll(() => {
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k]
    process.env[k] = v
  }
})
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
})

const form = (body: string) => Object.fromEntries(new URLSearchParams(body))

/** One harness per built-in channel, each against a local server that speaks the service's API. */
const harnesses: Record<string, () => Promise<ChannelHarness>> = {
  async console() {
    const lines: string[] = []
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk))
      return true
    })
    return { config: { kind: 'console' }, received: async () => lines, close: async () => spy.mockRestore() }
  },
  async webhook() {
    const ok = await startReceiver(() => 200)
    const down = await startReceiver(() => 503)
    return {
      config: { kind: 'webhook', url: `${ok.url}/hook`, secret: 'hmac-contract-secret' },
      received: async () => ok.requests.map((r) => (JSON.parse(r.body) as { subject: string }).subject),
      failing: {
        config: { kind: 'webhook', url: `${down.url}/hook?token=webhook-secret-token` },
        secret: 'webhook-secret-token',
      },
      close: async () => {
        await ok.close()
        await down.close()
      },
    }
  },
  async email() {
    const smtp = await startSmtp()
    const closed = await freePort()
    const base = {
      kind: 'email',
      host: '127.0.0.1',
      secure: false,
      from: 'weir@example.com',
      to: ['ops@example.com'],
    }
    return {
      config: { ...base, port: smtp.port },
      received: async () => smtp.mails.map((m) => m.subject),
      failing: {
        config: { ...base, port: closed, user: 'ops', pass: 'smtp-secret-pass' },
        secret: 'smtp-secret-pass',
      },
      close: smtp.close,
    }
  },
  async twilio() {
    const ok = await startReceiver(() => 201, JSON.stringify({ sid: 'SM1', status: 'queued' }))
    const refused = await startReceiver(() => 401, JSON.stringify({ code: 20003, message: 'Authenticate' }))
    const base = { kind: 'twilio', accountSid: 'AC1', from: '+15005550006', to: ['+15551234567'] }
    return {
      config: { ...base, authToken: 'twilio-token', baseUrl: ok.url },
      received: async () => ok.requests.map((r) => form(r.body).Body ?? ''),
      failing: {
        config: { ...base, authToken: 'twilio-secret-token', baseUrl: refused.url },
        secret: 'twilio-secret-token',
      },
      close: async () => {
        await ok.close()
        await refused.close()
      },
    }
  },
  async sns() {
    const ok = await startReceiver(() => 200, SNS_OK)
    const denied = await startReceiver(() => 403, SNS_DENIED)
    const base = { kind: 'sns', topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts', region: 'us-east-1' }
    return {
      config: { ...base, endpoint: ok.url },
      received: async () => ok.requests.map((r) => form(r.body).Subject ?? ''),
      failing: { config: { ...base, endpoint: denied.url }, secret: env.AWS_SECRET_ACCESS_KEY },
      close: async () => {
        await ok.close()
        await denied.close()
      },
    }
  },
}

describe('alert channels', () => {
  it('every built-in channel runs the contract', () => {
    expect(CHANNEL_KINDS.map((d) => d.kind).sort()).toEqual(Object.keys(harnesses).sort())
  })
})

for (const [kind, start] of Object.entries(harnesses))
  channelContract(kind, start, (c) => channelSchema.parse(c) as never)
