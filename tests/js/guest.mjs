// The venue-guest flow of the web app: the tour's admin opens an advancing session and hands out its code;
// venue staff sign in anonymously, claim the code, read their show and fill in hospitality.
import { client, errorShape, ok, run, suffix } from './lib.mjs'

run(async () => {
  const owner = client()
  ok('signUp owner', await owner.auth.signUp({ email: `js-guestflow-${suffix}@example.test`, password: 's3cret-pw-js' }))
  const org = ok('create_organization', await owner.rpc('create_organization',
    { name: `JS Guest ${suffix}`, slug: `js-guest-${suffix}` }))
  const venue = ok('venue', await owner.from('venues')
    .insert({ org_id: org.id, name: 'Vega', city: 'Copenhagen', country: 'DK' }).select('id').single())
  const show = ok('show', await owner.from('shows')
    .insert({ org_id: org.id, venue_id: venue.id, date: '2027-04-02', status: 'confirmed' }).select('id').single())
  const session = ok('create_advancing_session', await owner.rpc('create_advancing_session', { show_id: show.id }))

  const guest = client()
  const anon = ok('signInAnonymously', await guest.auth.signInAnonymously())
  const before = ok('shows before claim', await guest.from('shows').select('id'))
  const wrongCode = await guest.rpc('claim_access_code', { code: 'AAAA-BBBB-CCCC' })
  // Codes are typed by hand: case and dashes do not matter.
  const typed = session.access_code.toLowerCase().replace(/-/g, '')
  const claimed = ok('claim_access_code', await guest.rpc('claim_access_code', { code: typed }))
  const sheet = ok('guest reads its show', await guest.from('shows')
    .select('date, status, venues(name, city)').eq('id', show.id).single())
  const submitted = ok('submit_hospitality', await guest.rpc('submit_hospitality',
    { session_id: claimed.session_id, data: { guest_count: 4 } }))
  const unknownField = await guest.rpc('submit_hospitality',
    { session_id: claimed.session_id, data: { champagne: true } })
  const seenByOwner = ok('owner reads hospitality', await owner.from('hospitality')
    .select('guest_count, updated_by').eq('session_id', session.session_id).single())
  const guestOrgs = ok('guest organizations', await guest.from('organizations').select('id'))
  const guestVenueInsert = await guest.from('venues').insert({ org_id: org.id, name: 'Guest venue' })

  return {
    session: { id: session.session_id, showId: session.show_id, orgId: session.org_id, code: session.access_code,
               expiresAt: session.expires_at },
    orgId: org.id,
    showId: show.id,
    anonymous: { userId: anon.user.id, isAnonymous: anon.user.is_anonymous },
    showsBeforeClaim: before,
    wrongCode: errorShape(wrongCode),
    claimed,
    sheet,
    submitted: { sessionId: submitted.session_id, guestCount: submitted.guest_count, updatedBy: submitted.updated_by,
                 status: submitted.status },
    unknownField: errorShape(unknownField),
    seenByOwner,
    guestOrgs,
    guestVenueInsert: errorShape(guestVenueInsert),
  }
})
