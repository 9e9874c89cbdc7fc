import { describe, expect, it } from 'vitest'
import { replayIndex, safeCheckpoint, stillPending } from '../../src/landing/commit.js'
import type { Buffer_, Intent } from '../../src/landing/landing-types.js'

const seen = (topic: string, partition: string, offset: string) =>
  [`${topic}\u0000${partition}`, { topic, partition, offset }] as const
const open = (topic: string, partition: string, prev: string | undefined) =>
  ({ topic, partition, prev }) as unknown as Buffer_

describe('safeCheckpoint: what a landing round may commit', () => {
  it('commits everything read when no buffer is open', () => {
    expect(safeCheckpoint([], new Map([seen('x', '0', '00000000000000000009')]))).toEqual({
      x: { '0': '00000000000000000009' },
    })
  })

  it('stays below the first record of the oldest open buffer of a partition', () => {
    const buffers = [open('x', '0', '00000000000000000005'), open('x', '0', '00000000000000000003')]
    expect(safeCheckpoint(buffers, new Map([seen('x', '0', '00000000000000000009')]))).toEqual({
      x: { '0': '00000000000000000003' },
    })
  })

  it('commits nothing of a partition whose open buffer began at its first record read', () => {
    const buffers = [open('x', '0', undefined), open('x', '1', '00000000000000000002')]
    const lastSeen = new Map([seen('x', '0', '00000000000000000009'), seen('x', '1', '00000000000000000007')])
    expect(safeCheckpoint(buffers, lastSeen)).toEqual({ x: { '1': '00000000000000000002' } })
  })
})

describe('intents', () => {
  const intent = (partition: string, key: string, first: string, last: string): Intent => ({
    topic: 'x',
    partition,
    key,
    first,
    last,
  })

  it('lets go of intents whose records are all committed', () => {
    const pending = [intent('0', 'a', '01', '05'), intent('0', 'b', '06', '09'), intent('1', 'a', '01', '02')]
    expect(stillPending(pending, { x: { '0': '05' } })).toEqual([pending[1], pending[2]])
  })

  it('indexes the intents to replay by file key, oldest first', () => {
    const later = intent('0', 'a', '07', '09')
    const earlier = intent('0', 'a', '01', '05')
    expect(replayIndex([later, earlier]).get('x\u00000\u0000a')).toEqual([earlier, later])
  })
})
