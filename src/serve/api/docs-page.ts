import type { ServeConfig } from '../serve-schema.js'

/** A human page of the API's tables and parameters; the machine one is /openapi.json. */
export function docsPage(config: ServeConfig): string {
  const esc = (s: string) =>
    s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!)
  const rows = Object.entries(config.tables)
    .map(
      ([name, t]) =>
        `<h2>${esc(name)}</h2><p>From ${t.model ? `the model ${esc(t.model)}` : `${esc(t.source ?? '')}${t.resource ? `.${esc(t.resource)}` : ''}`}; key ${esc(t.key ?? 'a hash of the record')}.</p>
<ul><li><code>GET /v1/${esc(name)}/{key}</code></li><li><code>GET /v1/${esc(name)}?${
          Object.keys(t.indexes)
            .map((f) => `${esc(f)}=eq:…`)
            .join(' | ') || '…'
        }&amp;limit=100&amp;cursor=…</code></li></ul>`,
    )
    .join('\n')
  return `<!doctype html><html><head><meta charset="utf-8"><title>Weir API</title></head><body><h1>Weir API</h1>
<p>Read-only. Filters: <code>field=eq:v</code> (or <code>field=v</code>), <code>in:a,b</code>, <code>gt:</code>, <code>gte:</code>, <code>lt:</code>, <code>lte:</code>, <code>prefix:</code> on indexed fields; <code>select=a,b</code>; <code>sort=field</code> or <code>-field</code>; <code>limit</code>; <code>cursor</code> from <code>next</code>. The machine-readable description is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
${rows}</body></html>`
}
