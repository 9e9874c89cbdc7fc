import type { IncomingMessage } from 'node:http'
import type { Route, SimResponse } from './routes.js'

/** X's OAuth2 client-credentials grant: client id and secret in Basic auth, a bearer token back. */
export function token(req: IncomingMessage, form: string): SimResponse {
  const basic = /^Basic (\S+)/.exec(req.headers.authorization ?? '')?.[1]
  const [id, secret] = basic ? Buffer.from(basic, 'base64').toString().split(':') : []
  if (req.method !== 'POST' || !id || !secret) {
    return {
      status: 401,
      body: { error: 'invalid_client', error_description: 'client authentication failed' },
    }
  }
  if (new URLSearchParams(form).get('grant_type') !== 'client_credentials') {
    return { status: 400, body: { error: 'unsupported_grant_type' } }
  }
  return {
    status: 200,
    body: { token_type: 'bearer', access_token: `sim-${Buffer.from(id).toString('hex')}`, expires_in: 7200 },
  }
}

export async function body(req: IncomingMessage): Promise<string> {
  let s = ''
  for await (const chunk of req) s += chunk
  return s
}

/** Any non-empty credential is accepted, but it must be sent the way the real API wants it. */
export function checkAuth(
  route: Route,
  req: IncomingMessage,
  params: URLSearchParams,
): SimResponse | undefined {
  const bearer = /^Bearer \S+/.test(req.headers.authorization ?? '')
  if (route.auth === 'x' && !bearer) {
    return {
      status: 401,
      body: { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' },
    }
  }
  if (route.auth === 'tomorrow' && !params.get('apikey')) {
    return {
      status: 401,
      body: {
        code: 401001,
        type: 'Invalid Auth',
        message: 'The method requires authentication but it was not presented or is invalid.',
      },
    }
  }
  if (route.auth === 'tmdb' && !params.get('api_key') && !bearer) {
    return {
      status: 401,
      body: {
        status_code: 7,
        status_message: 'Invalid API key: You must be granted a valid key.',
        success: false,
      },
    }
  }
  return undefined
}
