import type { ServeConfig } from '../serve-schema.js'

/**
 * The API as an OpenAPI 3.1 document, from the served tables and their indexes.
 *
 * Long on purpose: it is one JSON document, read and checked against the spec as a whole.
 */
export function openapi(config: ServeConfig): Record<string, unknown> {
  const error = { $ref: '#/components/responses/Error' }
  const paths: Record<string, unknown> = {}
  const schemas: Record<string, unknown> = {
    Error: {
      type: 'object',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: { code: { type: 'string' }, message: { type: 'string' } },
        },
      },
    },
  }
  const secured = config.keys.length ? { security: [{ apiKey: [] }, { bearer: [] }] } : {}
  for (const [name, t] of Object.entries(config.tables)) {
    const item = `${name[0]!.toUpperCase()}${name.slice(1)}`
    schemas[item] = {
      type: 'object',
      description: `An item of ${name}, ${t.model ? `a row of the model ${t.model}` : `as the ${t.source} source sent it`}${Object.keys(t.derive).length ? ', with derived fields' : ''}.`,
      additionalProperties: true,
      properties: Object.fromEntries(
        Object.entries(t.indexes)
          .filter(([f]) => !f.includes('.'))
          .map(([f, type]) => [f, { type: [type === 'number' ? 'number' : 'string', 'null'] }]),
      ),
    }
    const filters = Object.entries(t.indexes).map(([f, type]) => ({
      name: f,
      in: 'query',
      required: false,
      description: `Filter on ${f}: \`v\` or \`eq:v\`, \`in:a,b\`, \`gt:\`, \`gte:\`, \`lt:\`, \`lte:\`${type === 'string' ? ', `prefix:`' : ''}. One filter per request.`,
      schema: { type: 'string' },
    }))
    const fields = Object.keys(t.indexes)
    paths[`/v1/${name}`] = {
      get: {
        operationId: `list_${name}`,
        summary: `Items of ${name}, by an index, page by page`,
        ...secured,
        parameters: [
          ...filters,
          {
            name: 'select',
            in: 'query',
            required: false,
            description: 'Fields to return, comma-separated.',
            schema: { type: 'string' },
          },
          ...(fields.length
            ? [
                {
                  name: 'sort',
                  in: 'query',
                  required: false,
                  description: 'An indexed field; `-field` for descending.',
                  schema: { type: 'string', enum: [...fields, ...fields.map((f) => `-${f}`)] },
                },
              ]
            : []),
          {
            name: 'limit',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 1, maximum: config.maxLimit, default: config.defaultLimit },
          },
          {
            name: 'cursor',
            in: 'query',
            required: false,
            description: 'The `next` of the previous page.',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': {
            description: 'A page of items; `next` is absent on the last page.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['items'],
                  properties: {
                    items: { type: 'array', items: { $ref: `#/components/schemas/${item}` } },
                    next: { type: 'string' },
                  },
                },
              },
            },
          },
          '400': error,
          '401': error,
          '403': error,
          '429': error,
        },
      },
    }
    paths[`/v1/${name}/{key}`] = {
      get: {
        operationId: `get_${name}`,
        summary: `One item of ${name} by its key`,
        ...secured,
        parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': {
            description: 'The item.',
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${item}` } } },
          },
          '401': error,
          '403': error,
          '404': error,
          '429': error,
        },
      },
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Weir API', version: '1', description: 'Read-only access to the tables Weir serves.' },
    paths: {
      ...paths,
      '/healthz': {
        get: {
          operationId: 'healthz',
          summary: 'The process is up',
          responses: { '200': { description: 'Up.' } },
        },
      },
      '/readyz': {
        get: {
          operationId: 'readyz',
          summary: 'The serving store answers',
          responses: { '200': { description: 'Ready.' }, '503': { description: 'Not ready.' } },
        },
      },
    },
    components: {
      schemas,
      responses: {
        Error: {
          description: 'An error, with a code and a message.',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        bearer: { type: 'http', scheme: 'bearer' },
      },
    },
  }
}
