import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { compileExpr, evaluate } from '../../src/core/expr.js'
import { weir } from '../helpers/cli.js'
import { tempDir } from '../helpers/services.js'

const rec = {
  data: { values: { temperature: 31.5, humidity: null, wind: 4 } },
  location: { name: 'toronto' },
  tags: ['a'],
}
const ev = (src: string) => evaluate(compileExpr(src), rec)

describe('the rule language', () => {
  it('compares, combines, computes and looks up fields safely', () => {
    expect(ev('data.values.temperature > 30')).toBe(true)
    expect(ev('data.values.temperature > 30 and location.name == "toronto"')).toBe(true)
    expect(ev("location.name in ['lisbon', 'toronto'] and not (data.values.wind >= 10)")).toBe(true)
    expect(ev('location.name not in ["toronto"] or data.values.temperature - 1.5 == 30')).toBe(true)
    expect(ev('(data.values.temperature * 9 / 5) + 32 > 88 and data.values.wind % 3 == 1')).toBe(true)
    expect(ev('-data.values.wind < 0')).toBe(true)
    expect(ev('data.values.humidity is null and data.values.wind is not null')).toBe(true)
    // A missing field is null: comparisons with it are false, arithmetic is null.
    expect(ev('data.values.pressure > 1000')).toBe(false)
    expect(ev('data.values.pressure + 1 is null')).toBe(true)
    expect(ev('data.values.humidity == null')).toBe(true)
    // No access outside the record: names are fields, not globals.
    expect(ev('process.env.HOME is null and constructor is null')).toBe(true)
  })

  it('says where an expression is wrong and what was expected there', () => {
    expect(() => compileExpr('data.values.temperature >')).toThrow(
      'at position 26: expected a value (number, \'string\', true, false, null, a field, "(" or "["), found the end of the expression',
    )
    expect(() => compileExpr('temperature = 30')).toThrow(
      'at position 13: expected "==" to compare, found "="',
    )
    expect(() => compileExpr('(a > 1')).toThrow(
      'at position 7: expected a closing ")", found the end of the expression',
    )
    expect(() => compileExpr('a > 1 b')).toThrow(
      'at position 7: expected an operator (and, or, ==, <, +, ...) or the end, found "b"',
    )
    expect(() => compileExpr("name == 'x")).toThrow(
      "at position 9: expected a closing ', found the end of the expression",
    )
    expect(() => compileExpr('a is 3')).toThrow('at position 6: expected "null" after "is", found "3"')
  })

  it('an invalid rule expression fails at config load, naming the rule, the position and what was expected', async () => {
    const dir = await tempDir('weir-alerts-')
    await writeFile(
      join(dir, 'weir.yaml'),
      `alerts:
  channels: { out: { kind: console } }
  rules:
    heat:
      source: weather
      when: "data.values.temperature >> 30"
      channels: [out]
`,
    )
    const r = await weir(['alerts', 'ls'], {}, dir)
    expect(r.code).toBe(1)
    // One line: the key, the expression, where it is wrong and what was expected there.
    expect(r.stderr).toMatch(
      /^weir: weir\.yaml: invalid config: alerts\.rules\.heat\.when: invalid expression "data\.values\.temperature >> 30": at position 26: expected a value .*, found ">"/,
    )
    expect(r.stderr.split('\n')).toHaveLength(2)
    expect(r.stderr).not.toMatch(/found.*found/)
  })
})

describe('weir alerts (CLI)', () => {
  it('test shows a match and the message without sending; silence and ls show the rule', async () => {
    const dir = await tempDir('weir-alerts-')
    await writeFile(
      join(dir, 'weir.yaml'),
      `sources:
  weather: { kind: demo, dataset: weather }
alerts:
  channels: { ops: { kind: webhook, url: "http://127.0.0.1:9/never" } }
  rules:
    heat:
      source: weather
      resource: realtime
      when: data.values.temperature > 30
      for: 10m
      key: location.name
      channels: [ops]
      subject: "Heat in {{ location.name }}: {{ data.values.temperature }} C"
`,
    )
    const hit = await weir(['alerts', 'test', 'heat', '--record', JSON.stringify(rec)], {}, dir)
    expect(hit.code, hit.stderr).toBe(0)
    expect(hit.stdout).toMatch(
      /^heat: matches \(fires once it holds for 10m\)\nwould send to ops:\nsubject: Heat in toronto: 31\.5 C\n/,
    )
    const miss = await weir(
      ['alerts', 'test', 'heat', '--record', '{"data":{"values":{"temperature":12}}}'],
      {},
      dir,
    )
    expect(miss.stdout).toBe('heat: no match (when data.values.temperature > 30)\n')
    const bad = await weir(['alerts', 'test', 'heat', '--record', '{nope'], {}, dir)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^weir: --record is not JSON: /)
    const silence = await weir(['alerts', 'silence', 'heat', '--for', '2h', '--key', 'toronto'], {}, dir)
    expect(silence.stdout).toMatch(/^silenced heat \(toronto\) until \d{4}-/)
    const ls = await weir(['alerts', 'ls', '--format', 'json'], {}, dir)
    expect(JSON.parse(ls.stdout)).toEqual([
      expect.objectContaining({
        rule: 'heat',
        watches: 'weather.realtime',
        channels: 'ops',
        silenced_until: expect.any(String),
      }),
    ])
    expect((await weir(['alerts', 'history'], {}, dir)).stdout).toBe('(no alert events yet)\n')
  })
})
