// A fetch that holds the server to the CORS rules a browser applies for a page on another origin: non-simple
// requests are preflighted, and a response is only handed over when it allows the origin, with its headers
// cut down to the safelisted and exposed ones (so a count in Content-Range is unreadable unless exposed).
const SIMPLE_METHODS = new Set(['GET', 'HEAD', 'POST'])
const SIMPLE_CONTENT_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'])
const SAFELISTED_RESPONSE = new Set(['cache-control', 'content-language', 'content-length', 'content-type',
  'expires', 'last-modified', 'pragma'])

function safelisted (name, value) {
  if (name === 'content-type') return SIMPLE_CONTENT_TYPES.has(value.split(';')[0].trim().toLowerCase())
  return name === 'accept' || name === 'accept-language' || name === 'content-language'
}

function list (value) {
  return new Set((value ?? '').split(',').map((item) => item.trim().toLowerCase()).filter(Boolean))
}

function allowsOrigin (response, origin) {
  const allowed = response.headers.get('access-control-allow-origin')
  return allowed === '*' || allowed === origin
}

// `log` collects one entry per preflight, so a test can see that they happened.
export function browserFetch (origin, log = []) {
  return async (input, init = {}) => {
    const url = typeof input === 'string' || input instanceof URL ? String(input) : input.url
    const method = (init.method ?? 'GET').toUpperCase()
    const headers = new Headers(init.headers)
    const unsafe = [...headers].filter(([name, value]) => !safelisted(name, value)).map(([name]) => name).sort()
    if (!SIMPLE_METHODS.has(method) || unsafe.length > 0) {
      const preflightHeaders = { Origin: origin, 'Access-Control-Request-Method': method }
      if (unsafe.length > 0) preflightHeaders['Access-Control-Request-Headers'] = unsafe.join(',')
      const preflight = await fetch(url, { method: 'OPTIONS', headers: preflightHeaders })
      const methods = list(preflight.headers.get('access-control-allow-methods'))
      const allowedHeaders = list(preflight.headers.get('access-control-allow-headers'))
      const refused = !preflight.ok ? `status ${preflight.status}`
        : !allowsOrigin(preflight, origin) ? 'origin not allowed'
          : !SIMPLE_METHODS.has(method) && !methods.has(method.toLowerCase()) && !methods.has('*') ? `method ${method}`
            : unsafe.filter((name) => !allowedHeaders.has(name)).join(',')
      log.push({ method, path: new URL(url).pathname, refused: refused || null })
      if (refused) throw new TypeError(`Failed to fetch (CORS preflight ${method} ${url}: ${refused})`)
    }
    headers.set('Origin', origin)
    const response = await fetch(url, { ...init, method, headers })
    if (!allowsOrigin(response, origin)) {
      throw new TypeError(`Failed to fetch (CORS: ${method} ${url} answered without Access-Control-Allow-Origin)`)
    }
    const exposed = list(response.headers.get('access-control-expose-headers'))
    const visible = new Headers()
    for (const [name, value] of response.headers) {
      if (SAFELISTED_RESPONSE.has(name) || exposed.has(name)) visible.set(name, value)
    }
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers: visible })
  }
}
