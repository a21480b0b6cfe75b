// A web page on another origin (http://localhost:3000) using supabase-js: every call goes through a fetch that
// enforces CORS as a browser would, so this fails if the stack cannot be used from a browser.
import { createClient } from '@supabase/supabase-js'
import ws from 'ws'
import { browserFetch } from './browser-fetch.mjs'
import { anonKey, errorShape, ok, run, suffix, url } from './lib.mjs'

run(async () => {
  const preflights = []
  const page = () => createClient(url, anonKey, {
    auth: { autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: browserFetch('http://localhost:3000', preflights) },
    realtime: { transport: ws },
  })
  const app = page()
  const email = `js-browser-${suffix}@example.test`
  const signUp = ok('signUp', await app.auth.signUp({ email, password: 's3cret-pw-js' }))
  const signIn = ok('signInWithPassword', await app.auth.signInWithPassword({ email, password: 's3cret-pw-js' }))
  const user = ok('getUser', await app.auth.getUser()).user
  const refreshed = ok('refreshSession', await app.auth.refreshSession())
  const wrongPassword = await page().auth.signInWithPassword({ email, password: 'wrong-password' })

  const org = ok('create_organization', await app.rpc('create_organization',
    { name: `JS Browser ${suffix}`, slug: `js-browser-${suffix}` }))
  const venue = ok('insert', await app.from('venues').insert({ org_id: org.id, name: 'Melkweg', city: 'Amsterdam' })
    .select('id, name').single())
  ok('bulk insert', await app.from('venues').insert([{ org_id: org.id, name: 'Vera' }, { org_id: org.id, name: 'Doornroosje' }]))
  const counted = ok('count', await app.from('venues').select('name', { count: 'exact' }).eq('org_id', org.id)
    .order('name').range(0, 1))
  const countResult = await app.from('venues').select('name', { count: 'exact' }).eq('org_id', org.id).range(0, 1)
  const headCount = await app.from('venues').select('*', { count: 'exact', head: true }).eq('org_id', org.id)
  ok('update', await app.from('venues').update({ city: 'Groningen' }).eq('org_id', org.id).eq('name', 'Vera'))
  ok('delete', await app.from('venues').delete().eq('id', venue.id))
  const left = ok('select', await app.from('venues').select('name, city').eq('org_id', org.id).order('name'))
  const refused = await app.from('venues').insert({ org_id: '00000000-0000-0000-0000-000000000000', name: 'x' })
  const noKey = await fetch(`${url}/rest/v1/venues`, { headers: { Origin: 'http://localhost:3000' } })
  const signOut = await app.auth.signOut()

  return {
    userId: signUp.user.id,
    signInUserId: signIn.user.id,
    getUserId: user.id,
    refreshedUserId: refreshed.user.id,
    wrongPassword: errorShape(wrongPassword),
    orgSlug: org.slug,
    venue: venue.name,
    counted,
    count: countResult.count,
    headCount: headCount.count,
    left,
    refused: errorShape(refused),
    noKey: { status: noKey.status, allowOrigin: noKey.headers.get('access-control-allow-origin') },
    signOutError: signOut.error ? errorShape(signOut) : null,
    preflights,
  }
})
