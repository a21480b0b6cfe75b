// /rest/v1 as a web app uses it: an organization by RPC, venues and shows written and read back with
// `.select()` chaining, embedding, filters with exact counts, single/maybeSingle, RLS between two users,
// and the shape of the errors.
import { client, errorShape, ok, run, suffix } from './lib.mjs'

async function signedUp (label) {
  const app = client()
  const { user } = ok(`signUp ${label}`, await app.auth.signUp({
    email: `js-${label}-${suffix}@example.test`, password: 's3cret-pw-js' }))
  return { app, user }
}

run(async () => {
  const { app: owner } = await signedUp('owner')
  const { app: outsider } = await signedUp('outsider')

  const org = ok('create_organization', await owner.rpc('create_organization',
    { name: `JS Tour ${suffix}`, slug: `js-${suffix}` }))
  const otherOrg = ok('create_organization (outsider)', await outsider.rpc('create_organization',
    { name: `JS Other ${suffix}`, slug: `js-other-${suffix}` }))
  const duplicateSlug = await outsider.rpc('create_organization', { name: 'Again', slug: `js-${suffix}` })

  // Writes: one row back with .select().single(); a bulk insert without .select() answers 201 and no data.
  const venuesTable = () => owner.from('venues')
  const huxleys = ok('insert venue', await venuesTable()
    .insert({ org_id: org.id, name: 'Huxleys', city: 'Berlin', country: 'DE', timezone: 'Europe/Berlin' })
    .select().single())
  const bulk = await venuesTable().insert([
    { org_id: org.id, name: 'Paradiso', city: 'Amsterdam', country: 'NL' },
    { org_id: org.id, name: 'Razzmatazz', city: 'Barcelona', country: 'ES' },
    { org_id: org.id, name: 'La Cigale', city: 'Paris', country: 'FR' },
  ])
  ok('bulk insert venues', bulk)
  const all = ok('select venues', await venuesTable().select('id, name, city').eq('org_id', org.id).order('name'))
  const byName = Object.fromEntries(all.map((v) => [v.name, v]))

  const shows = ok('insert shows', await owner.from('shows').insert([
    { org_id: org.id, venue_id: huxleys.id, date: '2027-03-01', status: 'confirmed', title: 'Berlin' },
    { org_id: org.id, venue_id: byName.Paradiso.id, date: '2027-03-03', title: 'Amsterdam' },
    { org_id: org.id, venue_id: byName.Razzmatazz.id, date: '2027-03-05', status: 'confirmed', title: 'Barcelona' },
    { org_id: org.id, venue_id: byName['La Cigale'].id, date: '2027-03-07', title: 'Paris' },
  ], { defaultToNull: false }).select('id, date, status'))  // rows without a status get the column default

  // Reads: embedding, filters, ordering, ranges, counts.
  const embedded = ok('embedded select', await owner.from('shows')
    .select('date, venues(name, city)').eq('org_id', org.id).order('date'))
  const nested = ok('nested embedded select', await owner.from('organizations')
    .select('name, shows(date, venues(name, city))').eq('id', org.id)
    .order('date', { referencedTable: 'shows' }).limit(2, { referencedTable: 'shows' }).single())
  const filtered = await owner.from('shows').select('title, date', { count: 'exact' })
    .eq('org_id', org.id).in('status', ['hold', 'confirmed']).order('date', { ascending: false }).range(1, 2)
  ok('filtered shows', filtered)
  const ored = ok('or filter', await owner.from('venues').select('name')
    .eq('org_id', org.id).or('city.eq.Paris,country.eq.NL').order('name'))
  const iliked = ok('ilike', await owner.from('venues').select('name').eq('org_id', org.id).ilike('name', '%AZZ%'))
  const headCount = await owner.from('venues').select('*', { count: 'exact', head: true }).eq('org_id', org.id)
  ok('head count', headCount)
  const single = ok('single', await owner.from('venues').select('name, city').eq('id', huxleys.id).single())
  const maybeNone = await owner.from('venues').select('name').eq('org_id', org.id).eq('name', 'Nowhere').maybeSingle()
  ok('maybeSingle none', maybeNone)
  const maybeOne = ok('maybeSingle one', await owner.from('venues').select('name')
    .eq('org_id', org.id).eq('city', 'Paris').maybeSingle())
  const maybeMany = await owner.from('venues').select('name').eq('org_id', org.id).maybeSingle()
  const singleNone = await owner.from('venues').select('name').eq('org_id', org.id).eq('name', 'Nowhere').single()

  // Updates and deletes: without .select() nothing comes back (204); with it, the changed rows.
  const plainUpdate = await venuesTable().update({ capacity: 1500 }).eq('id', huxleys.id)
  ok('update', plainUpdate)
  const updated = ok('update select', await venuesTable().update({ city: 'Berlin-Kreuzberg' })
    .eq('id', huxleys.id).select('name, city, capacity').single())
  const confirmed = ok('update show select', await owner.from('shows').update({ status: 'confirmed' })
    .eq('org_id', org.id).eq('title', 'Amsterdam').select('title, status'))
  const deleted = ok('delete select', await owner.from('shows').delete()
    .eq('org_id', org.id).eq('title', 'Paris').select('title'))
  const plainDelete = await venuesTable().delete().eq('id', byName['La Cigale'].id)
  ok('delete', plainDelete)
  const left = await owner.from('venues').select('name', { count: 'exact' }).eq('org_id', org.id).order('name')
  ok('venues left', left)

  // A write with no filter is refused (safeupdate on hosted): 400 21000, nothing written.
  const unfilteredDelete = await venuesTable().delete()
  const unfilteredUpdate = await venuesTable().update({ notes: 'everywhere' }).select()
  const afterUnfiltered = ok('venues after unfiltered writes', await venuesTable().select('name, notes')
    .eq('org_id', org.id).order('name'))

  // RLS: the outsider sees neither the owner's organization nor its venues, and cannot write into it.
  const foreignOrg = ok('foreign org', await outsider.from('organizations').select('id, name').eq('id', org.id))
  const foreignVenues = await outsider.from('venues').select('id', { count: 'exact' }).eq('org_id', org.id)
  ok('foreign venues', foreignVenues)
  const ownOrgs = ok('own orgs', await outsider.from('organizations').select('id'))
  const foreignInsert = await outsider.from('venues').insert({ org_id: org.id, name: 'Intruder' })
  const foreignUpdate = await outsider.from('venues').update({ name: 'Hijacked' }).eq('id', huxleys.id).select()

  // .in() quotes only values with `,()`: a bare `"` inside a value must stay part of it.
  ok('quoted names', await outsider.from('venues').insert([
    { org_id: otherOrg.id, name: 'Club "Q' }, { org_id: otherOrg.id, name: 'Bar, Tresen' },
    { org_id: otherOrg.id, name: 'Huxleys' }]))
  const inQuoted = ok('in with quotes', await outsider.from('venues').select('name')
    .eq('org_id', otherOrg.id).in('name', ['Club "Q', 'Bar, Tresen', 'Huxleys']).order('name'))

  // Errors a form shows: a constraint naming the field, and an unknown column.
  const badCapacity = await venuesTable().insert({ org_id: org.id, name: 'Bad', capacity: -1 }).select()
  const unknownColumn = await owner.from('venues').select('nope').eq('org_id', org.id)

  return {
    org: { id: org.id, name: org.name, slug: org.slug },
    otherOrgId: otherOrg.id,
    duplicateSlug: errorShape(duplicateSlug),
    inserted: { name: huxleys.name, city: huxleys.city, contacts: huxleys.contacts, idLength: huxleys.id.length },
    bulk: { status: bulk.status, data: bulk.data },
    allNames: all.map((v) => v.name),
    shows: shows.map((s) => ({ date: s.date, status: s.status })),
    embedded,
    nested,
    filtered: { status: filtered.status, count: filtered.count, rows: filtered.data },
    ored: ored.map((v) => v.name),
    iliked: iliked.map((v) => v.name),
    headCount: { status: headCount.status, count: headCount.count, data: headCount.data },
    single,
    maybeNone: { status: maybeNone.status, data: maybeNone.data },
    maybeOne,
    maybeMany: errorShape(maybeMany),
    singleNone: errorShape(singleNone),
    plainUpdate: { status: plainUpdate.status, data: plainUpdate.data },
    updated,
    confirmed,
    deleted,
    plainDelete: { status: plainDelete.status, data: plainDelete.data },
    unfilteredDelete: errorShape(unfilteredDelete),
    unfilteredUpdate: errorShape(unfilteredUpdate),
    afterUnfiltered,
    left: { count: left.count, names: left.data.map((v) => v.name) },
    foreignOrg,
    foreignVenues: { count: foreignVenues.count, data: foreignVenues.data },
    ownOrgIds: ownOrgs.map((o) => o.id),
    foreignInsert: errorShape(foreignInsert),
    inQuoted: inQuoted.map((v) => v.name),
    foreignUpdate: { status: foreignUpdate.status, data: foreignUpdate.data, error: foreignUpdate.error },
    badCapacity: errorShape(badCapacity),
    unknownColumn: errorShape(unknownColumn),
  }
})
