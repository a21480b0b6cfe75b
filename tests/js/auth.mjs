// /auth/v1 as a web app uses it: sign-up, password sign-in, getUser, refresh, sign-out, anonymous sign-in.
import { client, errorShape, ok, run, suffix } from './lib.mjs'

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
  }
})
