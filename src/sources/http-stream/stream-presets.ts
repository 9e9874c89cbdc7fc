import { WeirError } from '../../core/errors.js'
import { joinUrl } from '../rest/plan.js'
import { SERVICES } from '../rest/presets.js'
import type { HttpStreamSourceConfig } from './http-stream-schema.js'

const TWEET_FIELDS = 'created_at,author_id,conversation_id,lang,public_metrics,entities,referenced_tweets'
const USER_FIELDS = 'created_at,description,public_metrics,verified,location'

interface StreamPreset {
  readonly service: string
  readonly doc: string
  readonly path: string
  readonly format: 'ndjson' | 'sse'
  readonly params: Readonly<Record<string, string | number | boolean>>
  readonly select: Readonly<Record<string, string>>
  readonly attach?: Readonly<Record<string, string>>
  readonly dedupeBy?: string
  /** Where the rules are managed (X). */
  readonly rulesPath?: string
  /** The parameter that asks for the minutes missed during a disconnect (X). */
  readonly backfillParam?: string
  /** A message with this field and no records is the server saying why it drops the connection. */
  readonly dropWhen?: string
  /** The field that identifies a record, per resource. */
  readonly identity?: Readonly<Record<string, string>>
}

export const STREAM_PRESETS: Readonly<Record<string, StreamPreset>> = {
  'x.filtered_stream': {
    service: 'x',
    doc: 'Tweets matching `rules`, as they are posted, with their authors and the rules they matched. Resources: tweets (with matching_rules), users. Set `backfillMinutes` where the plan allows it.',
    path: '/2/tweets/search/stream',
    format: 'ndjson',
    params: { 'tweet.fields': TWEET_FIELDS, expansions: 'author_id', 'user.fields': USER_FIELDS },
    select: { tweets: 'data', users: 'includes.users' },
    attach: { matching_rules: 'matching_rules' },
    dedupeBy: 'data.id',
    rulesPath: '/2/tweets/search/stream/rules',
    backfillParam: 'backfill_minutes',
    dropWhen: 'errors',
    identity: { tweets: 'id' },
  },
}

/** A streaming source's config with its preset merged in and every field set. */
export interface ResolvedStream {
  readonly url: URL
  readonly format: 'ndjson' | 'sse'
  readonly select: Readonly<Record<string, string>>
  readonly attach: Readonly<Record<string, string>>
  readonly dedupeBy?: string
  readonly rulesUrl?: URL
  readonly backfillParam?: string
  readonly dropWhen?: string
  readonly identity: Readonly<Record<string, string>>
  readonly apiKey?: { readonly name: string; readonly in: 'query' | 'header' }
  readonly baseUrl: string
}

export function resolveStream(name: string, cfg: HttpStreamSourceConfig): ResolvedStream {
  const p = cfg.preset ? STREAM_PRESETS[cfg.preset] : undefined
  if (cfg.preset && !p)
    throw new WeirError(
      `source ${name}: unknown streaming preset "${cfg.preset}"; presets: ${Object.keys(STREAM_PRESETS).join(', ')}`,
      { code: 'SOURCE_PRESET', stage: 'config' },
    )
  const service = p ? SERVICES[p.service] : undefined
  const baseUrl = cfg.baseUrl || service?.baseUrl
  const path = cfg.path ?? p?.path
  if (!baseUrl || !path)
    throw new WeirError(
      `source ${name}: a streaming source needs ${baseUrl ? 'a path' : 'a baseUrl'} (or a preset)`,
      {
        code: 'SOURCE_CONFIG',
        stage: 'config',
      },
    )
  if (cfg.rules && !p?.rulesPath)
    throw new WeirError(`source ${name}: rules are X's filtered stream's; use preset x.filtered_stream`, {
      code: 'SOURCE_CONFIG',
      stage: 'config',
    })
  const url = new URL(joinUrl(baseUrl, path))
  for (const [k, v] of Object.entries({ ...p?.params, ...cfg.params })) url.searchParams.set(k, String(v))
  const rulesUrl = p?.rulesPath ? new URL(joinUrl(baseUrl, p.rulesPath)) : undefined
  // Only a backfill sends a message twice; without one, there is nothing to drop.
  const dedupeBy = cfg.backfillMinutes > 0 ? (cfg.dedupeBy ?? p?.dedupeBy) : undefined
  return {
    url,
    baseUrl,
    format: cfg.format ?? p?.format ?? 'ndjson',
    select: cfg.select ?? p?.select ?? { [name]: '$' },
    attach: cfg.attach ?? p?.attach ?? {},
    ...(dedupeBy ? { dedupeBy } : {}),
    ...(rulesUrl ? { rulesUrl } : {}),
    ...(p?.dropWhen ? { dropWhen: p.dropWhen } : {}),
    ...(p?.backfillParam ? { backfillParam: p.backfillParam } : {}),
    identity: p?.identity ?? {},
    ...(service?.apiKey ? { apiKey: service.apiKey } : {}),
  }
}
