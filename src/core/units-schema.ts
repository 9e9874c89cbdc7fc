import { z } from 'zod'
import { parseBytes, parseDuration } from './units.js'

const parses = (parse: (v: string) => number) => (v: string | number) => {
  if (typeof v === 'number') return true
  try {
    parse(v)
    return true
  } catch {
    return false
  }
}

/**
 * A duration in a config: milliseconds as a number, or text such as `60s`, `5 minutes` or `500ms`,
 * checked when the config loads (not when a stage first reads it).
 */
export const durationSchema = z
  .union([z.string().min(1), z.number().int().nonnegative()])
  .refine(parses(parseDuration), { message: 'expected a duration such as "60s", "5 minutes" or "500ms"' })
  .describe('A duration: milliseconds as a number, or text such as "60s" or "5 minutes".')

/** A size in a config: bytes as a number, or text such as `10MB` or `512KiB`, checked when the config loads. */
export const sizeSchema = z
  .union([z.string(), z.number().int().positive()])
  .refine(parses(parseBytes), { message: 'expected a size such as "10MB", "512KiB" or a number of bytes' })
  .describe('A size: bytes as a number, or text such as "10MB" or "512KiB".')

/** A PostgreSQL connection URL, checked for its shape when the config loads (its value is never shown). */
export const postgresUrlSchema = z
  .string()
  .refine((u) => /^postgres(ql)?:\/\/\S+$/.test(u) && URL.canParse(u), {
    message: 'expected a URL like postgres://user:password@host:5432/db',
  })
