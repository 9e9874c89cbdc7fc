import { describe, expect, it } from 'vitest'
import type { Message } from '../../src/alerts/channels/channel.js'
import { channelSchema, createChannel } from '../../src/alerts/channels/registry.js'
import { startReceiver } from './helpers.js'

const message: Message = {
  channel: 'x',
  subject: 'Heat in toronto: 31 C',
  text: 'heat is firing for toronto',
  alerts: [],
  digest: false,
}

describe('alert channels against local servers that speak the real APIs', () => {
  it('Twilio: POST /2010-04-01/Accounts/<sid>/Messages.json, form-encoded, basic auth, one request per recipient', async () => {
    const twilio = await startReceiver(() => 201, JSON.stringify({ sid: 'SM123', status: 'queued' }))
    const ch = createChannel(
      'sms',
      channelSchema.parse({
        kind: 'twilio',
        accountSid: 'AC0123456789',
        authToken: 'twilio-secret',
        from: '+15005550006',
        to: ['+15551234567', '+15557654321'],
        baseUrl: twilio.url,
      }),
    )
    await ch.send(message)
    expect(twilio.requests).toHaveLength(2)
    const [r] = twilio.requests
    expect(r!.method).toBe('POST')
    expect(r!.url).toBe('/2010-04-01/Accounts/AC0123456789/Messages.json')
    expect(r!.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/)
    expect(r!.headers.authorization).toBe(
      `Basic ${Buffer.from('AC0123456789:twilio-secret').toString('base64')}`,
    )
    expect(Object.fromEntries(new URLSearchParams(r!.body))).toEqual({
      To: '+15551234567',
      From: '+15005550006',
      Body: 'Heat in toronto: 31 C\nheat is firing for toronto',
    })
    await twilio.close()
  })

  it('Twilio: an error answer fails the send with its status', async () => {
    const twilio = await startReceiver(() => 401, JSON.stringify({ code: 20003, message: 'Authenticate' }))
    const ch = createChannel(
      'sms',
      channelSchema.parse({
        kind: 'twilio',
        accountSid: 'AC1',
        authToken: 'bad',
        from: '+1',
        to: ['+2'],
        baseUrl: twilio.url,
      }),
    )
    await expect(ch.send(message)).rejects.toThrow(/^alert channel sms: Twilio: HTTP 401: .*Authenticate/)
    await twilio.close()
  })

  it('SNS: the Query API Action=Publish to a topic (with a subject) and to a phone number, signed with SigV4', async () => {
    const xml = `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>5e3b-1</MessageId></PublishResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></PublishResponse>`
    const sns = await startReceiver(() => 200, xml)
    const env = { AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret-test' }
    Object.assign(process.env, env)
    const topic = createChannel(
      'sns',
      channelSchema.parse({
        kind: 'sns',
        topicArn: 'arn:aws:sns:us-east-1:123456789012:weather-alerts',
        region: 'us-east-1',
        endpoint: sns.url,
      }),
    )
    await topic.send(message)
    const phone = createChannel(
      'sms',
      channelSchema.parse({
        kind: 'sns',
        phoneNumber: '+15551234567',
        region: 'us-east-1',
        endpoint: sns.url,
      }),
    )
    await phone.send(message)
    await topic.close()
    await phone.close()
    expect(sns.requests).toHaveLength(2)
    const [a, b] = sns.requests.map((r) => ({ ...r, form: Object.fromEntries(new URLSearchParams(r.body)) }))
    expect(a!.method).toBe('POST')
    expect(a!.form).toMatchObject({
      Action: 'Publish',
      Version: '2010-03-31',
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:weather-alerts',
      Subject: 'Heat in toronto: 31 C',
      Message: 'heat is firing for toronto',
    })
    expect(a!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/sns\/aws4_request/,
    )
    expect(b!.form).toMatchObject({
      Action: 'Publish',
      PhoneNumber: '+15551234567',
      Message: 'Heat in toronto: 31 C\nheat is firing for toronto',
    })
    await sns.close()
  })
})
