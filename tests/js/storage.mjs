// storage-js as a web app uses it on the private `advancing` bucket: a member uploads a rider into its session's
// folder (Blob → multipart, Buffer → raw body), lists the folder, signs a URL and fetches it without credentials,
// downloads, checks existence, moves, copies and removes; a second upload without upsert is refused (409).
import { client, errorShape, ok, run, suffix, url } from './lib.mjs'

// storage-js errors also carry Storage's own `statusCode` (a string, from the body)
const storageError = (result) => ({ ...errorShape(result), statusCode: result.error?.statusCode ?? null })

run(async () => {
  const owner = client()
  ok('signUp owner', await owner.auth.signUp({ email: `js-storage-${suffix}@example.test`, password: 's3cret-pw-js' }))
  const org = ok('create_organization', await owner.rpc('create_organization',
    { name: `JS Storage ${suffix}`, slug: `js-storage-${suffix}` }))
  const show = ok('show', await owner.from('shows')
    .insert({ org_id: org.id, date: '2027-05-01', status: 'confirmed' }).select('id').single())
  const session = ok('create_advancing_session', await owner.rpc('create_advancing_session', { show_id: show.id }))
  const folder = `${org.id}/${session.session_id}`
  const bucket = owner.storage.from('advancing')

  const blobUpload = ok('upload blob', await bucket.upload(`${folder}/rider.txt`,
    new Blob(['Rider: 4 towels'], { type: 'text/plain' })))
  const bufferUpload = ok('upload buffer', await bucket.upload(`${folder}/plot.bin`, Buffer.from([0, 1, 2, 3, 255]),
    { contentType: 'application/octet-stream', cacheControl: '60' }))
  const duplicate = storageError(await bucket.upload(`${folder}/rider.txt`, new Blob(['again'])))
  const upserted = ok('upsert', await bucket.upload(`${folder}/rider.txt`,
    new Blob(['Rider: 6 towels'], { type: 'text/plain' }), { upsert: true }))
  const listed = ok('list', await bucket.list(folder, { sortBy: { column: 'name', order: 'asc' } }))
  const signed = ok('createSignedUrl', await bucket.createSignedUrl(`${folder}/rider.txt`, 60))
  const fetched = await fetch(signed.signedUrl)
  const signedMany = ok('createSignedUrls', await bucket.createSignedUrls([`${folder}/rider.txt`, `${folder}/nope`], 60))
  const downloaded = ok('download', await bucket.download(`${folder}/plot.bin`))
  const exists = ok('exists', await bucket.exists(`${folder}/rider.txt`))
  const missing = await bucket.exists(`${folder}/missing.txt`)
  ok('move', await bucket.move(`${folder}/plot.bin`, `${folder}/stage-plot.bin`))
  const copied = ok('copy', await bucket.copy(`${folder}/rider.txt`, `${folder}/rider-copy.txt`))
  const uploadUrl = ok('createSignedUploadUrl', await bucket.createSignedUploadUrl(`${folder}/from-venue.txt`))
  const venueSide = client().storage.from('advancing')   // signed out: the token is the credential
  const signedUpload = ok('uploadToSignedUrl', await venueSide.uploadToSignedUrl(`${folder}/from-venue.txt`,
    uploadUrl.token, new Blob(['load-in at the back'], { type: 'text/plain' })))
  const info = ok('info', await bucket.info(`${folder}/from-venue.txt`))
  ok('remove venue upload', await bucket.remove([`${folder}/from-venue.txt`]))
  const afterMove = ok('list after move', await bucket.list(folder))
  const removed = ok('remove', await bucket.remove([`${folder}/rider.txt`, `${folder}/stage-plot.bin`,
    `${folder}/rider-copy.txt`]))
  const afterRemove = ok('list after remove', await bucket.list(folder))
  const outsider = client()
  ok('signUp outsider', await outsider.auth.signUp({ email: `js-storage-out-${suffix}@example.test`,
    password: 's3cret-pw-js' }))
  const outsiderUpload = storageError(await outsider.storage.from('advancing').upload(`${folder}/x.txt`,
    new Blob(['x'])))
  const outsiderSign = storageError(await outsider.storage.from('advancing').createSignedUrl(`${folder}/rider.txt`, 60))

  return {
    folder,
    blobUpload,
    bufferUpload,
    duplicate,
    upserted,
    listed: listed.map(({ name, metadata }) => ({ name, size: metadata?.size, mimetype: metadata?.mimetype,
      cacheControl: metadata?.cacheControl })),
    signedUrl: signed.signedUrl,
    fetched: { status: fetched.status, body: await fetched.text(), type: fetched.headers.get('content-type') },
    signedMany,
    downloaded: { bytes: [...new Uint8Array(await downloaded.arrayBuffer())], type: downloaded.type },
    exists,
    missing: { data: missing.data, error: missing.error ? missing.error.name : null },
    copied,
    signedUpload,
    info: { size: info.size, contentType: info.contentType, name: info.name, bucketId: info.bucketId },
    afterMove: afterMove.map((o) => o.name),
    removed: removed.map((o) => o.name),
    afterRemove: afterRemove.map((o) => o.name),
    outsiderUpload,
    outsiderSign,
    baseUrl: url,
  }
})
