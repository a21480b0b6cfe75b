// Realtime as a web app uses it (supabase-js's realtime client, vsn 2.0.0 arrays, `ws` transport): the tour
// manager and the venue guest watch hospitality while the guest sets guest_count = 15; an outsider sees nothing;
// broadcast and presence between the two; a bad filter's system message.
import { client, ok, run, suffix } from './lib.mjs'

const WAIT_MS = 20000

async function until (label, test) {
  const deadline = Date.now() + WAIT_MS
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function subscribed (channel) {
  return new Promise((resolve, reject) => {
    channel.subscribe((status, err) => {
      if (status === 'SUBSCRIBED') resolve(status)
      else if (status !== 'CLOSED') reject(new Error(`${channel.topic}: ${status} ${err?.message ?? ''}`))
    })
  })
}

run(async () => {
  const owner = client()
  ok('signUp owner', await owner.auth.signUp({ email: `js-rt-${suffix}@example.test`, password: 's3cret-pw-js' }))
  const org = ok('org', await owner.rpc('create_organization', { name: `JS RT ${suffix}`, slug: `js-rt-${suffix}` }))
  const show = ok('show', await owner.from('shows')
    .insert({ org_id: org.id, date: '2027-04-02', status: 'confirmed' }).select('id').single())
  const session = ok('session', await owner.rpc('create_advancing_session', { show_id: show.id }))
  const guest = client()
  ok('anonymous', await guest.auth.signInAnonymously())
  ok('claim', await guest.rpc('claim_access_code', { code: session.access_code }))
  const outsider = client()
  ok('signUp outsider', await outsider.auth.signUp({ email: `js-rt-out-${suffix}@example.test`, password: 's3cret-pw-js' }))

  const seen = { owner: [], guest: [], outsider: [], system: [], broadcast: [], presenceJoins: [] }
  const ownerChannel = owner.channel('js-story').on('postgres_changes',
    { event: 'UPDATE', schema: 'public', table: 'hospitality', filter: `session_id=eq.${session.session_id}` },
    (p) => seen.owner.push(p))
  const guestChannel = guest.channel('js-story').on('postgres_changes',
    { event: '*', schema: 'public', table: 'hospitality' }, (p) => seen.guest.push(p))
  const outsiderChannel = outsider.channel('js-outsider')
    .on('postgres_changes', { event: '*', schema: 'public', table: 'hospitality' }, (p) => seen.outsider.push(p))
    .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'shows' }, (p) => seen.outsider.push(p))
  await Promise.all([subscribed(ownerChannel), subscribed(guestChannel), subscribed(outsiderChannel)])

  const started = Date.now()
  ok('submit', await guest.rpc('submit_hospitality', { session_id: session.session_id, data: { guest_count: 15 } }))
  await until('the owner\'s change', () => seen.owner.length > 0)
  const ownerMs = Date.now() - started
  await until('the guest\'s change', () => seen.guest.length > 0)

  // the outsider's own insert comes after the story's commit: once it arrives, anything for them would have too
  const own = ok('outsider org', await outsider.rpc('create_organization', { name: `Out ${suffix}`, slug: `js-out-${suffix}` }))
  ok('outsider show', await outsider.from('shows').insert({ org_id: own.id, date: '2027-01-01' }))
  await until('the outsider\'s own insert', () => seen.outsider.length > 0)

  // broadcast and presence on one topic
  const room = `js-room-${suffix}`
  const listen = guest.channel(room, { config: { presence: { key: 'venue' } } })
    .on('broadcast', { event: 'cue' }, (m) => seen.broadcast.push(m))
    .on('presence', { event: 'join' }, ({ key, newPresences }) => seen.presenceJoins.push({ key, newPresences }))
  await subscribed(listen)
  const speak = owner.channel(room, { config: { presence: { key: 'tm' } } })
  await subscribed(speak)
  const sent = await speak.send({ type: 'broadcast', event: 'cue', payload: { song: 7 } })
  await until('the broadcast', () => seen.broadcast.length > 0)
  const tracked = await speak.track({ role: 'tour manager' })
  await until('the presence join', () => seen.presenceJoins.some((j) => j.key === 'tm'))

  // a bad filter: the join succeeds, a system message says why nothing will come
  const bad = owner.channel('js-bad').on('system', {}, (m) => seen.system.push(m))
    .on('postgres_changes', { event: '*', schema: 'public', table: 'hospitality', filter: 'guest_count=foo.1' }, () => {})
  await subscribed(bad)
  await until('the system message', () => seen.system.some((m) => m.status === 'error'))

  return {
    sessionId: session.session_id,
    owner: seen.owner,
    ownerMs,
    guest: seen.guest,
    outsider: seen.outsider,
    outsiderOrg: own.id,
    sent,
    tracked,
    broadcast: seen.broadcast,
    presenceJoins: seen.presenceJoins,
    system: seen.system,
  }
})
