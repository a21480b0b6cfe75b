// Shared by the scripts: a client exactly as a web app builds one, a check that turns a
// supabase-js `{data, error}` into data or a thrown error, and the JSON report pytest reads.
import { createClient } from '@supabase/supabase-js'
import ws from 'ws'

export const url = required('SUPABASE_URL')
export const anonKey = required('SUPABASE_ANON_KEY')
export const suffix = required('SUFFIX')

function required (name) {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set`)
  return value
}

// Node has no localStorage: supabase-js keeps the session in memory, as it would for a server-side app.
// Node 20 has no global WebSocket, so realtime gets `ws` (supabase-js's own advice); no socket is opened here.
export function client () {
  return createClient(url, anonKey, {
    auth: { autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: ws },
  })
}

// The data of a call that must succeed; its error (code, message, status) otherwise.
export function ok (label, result) {
  if (result.error) {
    const { code, message, details, hint } = result.error
    throw new Error(`${label}: ${JSON.stringify({ status: result.status, code, message, details, hint })}`)
  }
  return result.data
}

// The parts of an error a web app looks at, so pytest can assert on its shape.
export function errorShape (result) {
  const error = result.error
  if (!error) return { unexpected: 'no error', data: result.data ?? null }
  return {
    status: result.status ?? error.status ?? null,
    name: error.name ?? null,
    code: error.code ?? null,
    message: error.message ?? null,
    hint: error.hint ?? null,
    details: error.details ?? null,
    keys: Object.keys(error).sort(),
    data: result.data ?? null,
  }
}

// Prints the report on stdout and ends the process (no timers left to wait for); any failure exits 1.
export async function run (main) {
  try {
    const report = await main()
    process.stdout.write(JSON.stringify(report) + '\n')
    process.exit(0)
  } catch (err) {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exit(1)
  }
}
