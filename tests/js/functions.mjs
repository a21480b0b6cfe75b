// functions-js as a web app uses it: a member invokes the project's edge functions through the stack's
// /functions/v1 — send-email (an advancing invite) and generate-advancing-pdf (whose signed URL is then fetched) —
// and the failures arrive as supabase-js's FunctionsHttpError with the function's own answer in `context`.
import { FunctionsHttpError } from '@supabase/supabase-js'
import { client, ok, run, suffix } from './lib.mjs'

// A failed invoke: the error class a web app checks, and the HTTP answer it reads from `error.context`.
async function failure (result) {
  const { data, error } = result
  if (!error) return { unexpected: 'no error', data: data ?? null }
  const response = error.context
  return {
    name: error.name,
    httpError: error instanceof FunctionsHttpError,
    status: response?.status ?? null,
    body: response ? await response.text() : null,
  }
}

run(async () => {
  const owner = client()
  ok('signUp', await owner.auth.signUp({ email: `js-functions-${suffix}@example.test`, password: 's3cret-pw-js' }))
  const org = ok('create_organization', await owner.rpc('create_organization',
    { name: `JS Functions ${suffix}`, slug: `js-functions-${suffix}` }))
  const venue = ok('venue', await owner.from('venues').insert({ org_id: org.id, name: `Zepp Haneda ${suffix}`,
    city: 'Tokyo', country: 'JP', timezone: 'Asia/Tokyo' }).select('id, name').single())
  const show = ok('show', await owner.from('shows')
    .insert({ org_id: org.id, venue_id: venue.id, date: '2027-05-02', status: 'confirmed' }).select('id').single())
  const session = ok('create_advancing_session', await owner.rpc('create_advancing_session', { show_id: show.id }))
  ok('submit_hospitality', await owner.rpc('submit_hospitality',
    { session_id: session.session_id, data: { guest_count: 42 } }))

  const to = `venue-js-${suffix}@example.test`
  const invite = ok('invoke send-email', await owner.functions.invoke('send-email', {
    body: { template: 'advancing_invite', session_id: session.session_id, access_code: session.access_code, to },
  }))
  const pdf = ok('invoke generate-advancing-pdf', await owner.functions.invoke('generate-advancing-pdf', {
    body: { session_id: session.session_id },
  }))
  const fetched = await fetch(pdf.signed_url)
  const bytes = Buffer.from(await fetched.arrayBuffer())

  const wrongCode = await failure(await owner.functions.invoke('send-email', {
    body: { template: 'advancing_invite', session_id: session.session_id, access_code: 'ABCD-EFGH-JKMN', to },
  }))
  const signedOut = await failure(await client().functions.invoke('generate-advancing-pdf', {
    body: { session_id: session.session_id },
  }))
  const missing = await failure(await owner.functions.invoke('no-such-function', { body: {} }))
  const unsigned = await failure(await client().functions.invoke('stripe-webhook', {
    body: { id: 'evt_js', type: 'customer.subscription.updated' }, headers: { 'Stripe-Signature': 't=1,v1=00' },
  }))

  return {
    venue: venue.name,
    to,
    accessCode: session.access_code,
    invite,
    pdf: { path: pdf.path, bytes: pdf.bytes, expiresIn: pdf.expires_in, signedUrl: pdf.signed_url },
    fetched: { status: fetched.status, type: fetched.headers.get('content-type'), size: bytes.length,
      magic: bytes.subarray(0, 5).toString('latin1') },
    wrongCode,
    signedOut,
    missing,
    unsigned,
  }
})
