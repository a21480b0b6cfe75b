// /auth/v1 as a web app uses it: sign-up, password sign-in, getUser, refresh, sign-out, anonymous sign-in,
// and a magic link in the PKCE flow (@supabase/ssr's flow): link → ?code= → exchangeCodeForSession.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createClient } from '@supabase/supabase-js'
import ws from 'ws'
import { anonKey, client, errorShape, ok, run, suffix, url } from './lib.mjs'

// A client in the PKCE flow: it keeps the code verifier in its storage (here a Map) until the code comes back.
function pkceClient (memory = new Map()) {
  const storage = { getItem: (key) => memory.get(key) ?? null, setItem: (key, value) => { memory.set(key, value) },
                    removeItem: (key) => { memory.delete(key) } }
  return createClient(url, anonKey, {
    auth: { flowType: 'pkce', autoRefreshToken: false, detectSessionInUrl: false, storage },
    realtime: { transport: ws },
  })
}

// The newest mail to `to` in the local stack's outbox (<data dir>/mail/*.json, oldest first by name).
function lastMail (to) {
  const dir = join(process.env.ONCORE_DATA_DIR, 'mail')
  const mails = readdirSync(dir).filter((name) => name.endsWith('.json') && !name.startsWith('.')).sort()
    .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')))
    .filter((mail) => mail.to.toLowerCase() === to.toLowerCase())
  if (!mails.length) throw new Error(`no mail to ${to}`)
  return mails.at(-1)
}

// Follows the mailed link as a browser would, stopping at the redirect: the code the app's callback receives.
async function clickForCode (link) {
  const clicked = await fetch(link, { redirect: 'manual' })
  const location = new URL(clicked.headers.get('location'))
  return { status: clicked.status, code: location.searchParams.get('code'), fragment: location.hash,
           callback: location.origin + location.pathname }
}

run(async () => {
  const email = `js-${suffix}@example.test`
  const password = 's3cret-pw-js'
  const app = client()

  const signUp = ok('signUp', await app.auth.signUp({ email, password, options: { data: { name: 'Ada' } } }))
  const signIn = ok('signInWithPassword', await app.auth.signInWithPassword({ email, password }))
  const fromGetSession = ok('getSession', await app.auth.getSession()).session
  const got = ok('getUser', await app.auth.getUser())
  const refreshed = ok('refreshSession', await app.auth.refreshSession())
  // GoTrue's reuse interval: a spent refresh token presented again at once yields the session's current one.
  const replayed = ok('refreshSession (replayed token)',
    await client().auth.refreshSession({ refresh_token: signIn.session.refresh_token }))
  const signOut = await app.auth.signOut()
  const afterSignOut = ok('getSession after signOut', await app.auth.getSession()).session
  // Signed out on the server: neither the access token nor the refresh token reaches the session any more.
  const revokedUser = await client().auth.getUser(refreshed.session.access_token)
  const revokedRefresh = await client().auth.refreshSession({ refresh_token: refreshed.session.refresh_token })

  const wrongPassword = await client().auth.signInWithPassword({ email, password: 'not-the-password' })
  const duplicate = await client().auth.signUp({ email, password })
  const weak = await client().auth.signUp({ email: `js-weak-${suffix}@example.test`, password: '123' })

  const guest = client()
  const anon = ok('signInAnonymously', await guest.auth.signInAnonymously())
  const anonUser = ok('getUser (anonymous)', await guest.auth.getUser()).user

  const pkceEmail = `js-pkce-${suffix}@example.test`
  const memory = new Map()
  const browser = pkceClient(memory)
  ok('signInWithOtp (pkce)', await browser.auth.signInWithOtp({
    email: pkceEmail, options: { emailRedirectTo: 'http://localhost:3000/auth/callback' } }))
  const verifier = [...memory].find(([key]) => key.endsWith('-code-verifier'))
  const magicMail = lastMail(pkceEmail)
  const clicked = await clickForCode(magicMail.link)
  const exchanged = ok('exchangeCodeForSession', await browser.auth.exchangeCodeForSession(clicked.code))
  const pkceUser = ok('getUser (pkce)', await browser.auth.getUser()).user
  // The same code and verifier a second time (another tab that kept the verifier): the server refuses it.
  const reused = await pkceClient(new Map([verifier])).auth.exchangeCodeForSession(clicked.code)

  return {
    email,
    signUp: { userId: signUp.user?.id, email: signUp.user?.email, hasSession: !!signUp.session,
              metadata: signUp.user?.user_metadata },
    signIn: { userId: signIn.user.id, tokenType: signIn.session.token_type, expiresIn: signIn.session.expires_in,
              expiresAt: signIn.session.expires_at, hasRefresh: !!signIn.session.refresh_token,
              accessToken: signIn.session.access_token },
    getSessionMatches: fromGetSession?.access_token === signIn.session.access_token,
    getUser: { id: got.user.id, email: got.user.email, role: got.user.role, aud: got.user.aud,
               isAnonymous: got.user.is_anonymous, providers: got.user.app_metadata?.providers },
    refresh: { userId: refreshed.user?.id, expiresIn: refreshed.session.expires_in,
               newRefresh: refreshed.session.refresh_token !== signIn.session.refresh_token,
               accessToken: refreshed.session.access_token },
    replayedGetsCurrent: replayed.session.refresh_token === refreshed.session.refresh_token,
    signOutError: signOut.error ? errorShape(signOut) : null,
    sessionAfterSignOut: afterSignOut,
    revokedUser: errorShape(revokedUser),
    revokedRefresh: errorShape(revokedRefresh),
    wrongPassword: errorShape(wrongPassword),
    duplicate: errorShape(duplicate),
    weak: { ...errorShape(weak), reasons: weak.error?.reasons ?? null },
    anonymous: { userId: anon.user.id, isAnonymous: anon.user.is_anonymous, email: anon.user.email ?? null,
                 hasSession: !!anon.session, getUserId: anonUser.id, getUserAnonymous: anonUser.is_anonymous },
    pkce: { email: pkceEmail, tokenHash: magicMail.token_hash, clickStatus: clicked.status,
            callback: clicked.callback, fragment: clicked.fragment, hasCode: !!clicked.code,
            sessionEmail: exchanged.session?.user?.email ?? null, accessToken: exchanged.session?.access_token ?? null,
            getUserEmail: pkceUser.email, verifierKept: !!verifier, reused: errorShape(reused) },
  }
})
