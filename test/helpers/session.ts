// What the tests keep in @fastify/session's session, declared once for every test (the
// augmentation the README's Usage shows for an application). `user` is the key the plugin's
// default isAuthenticated looks at. Its type must be the one benchmarks/server.ts declares for
// the same key (one program type-checks both: a different type is TS2717), so the role the
// lifetime tests need is a key of its own.
declare module 'fastify' {
  interface Session {
    /** Signed in: the harness's /login, the browser applications, the tests' own routes. */
    user?: { id: number, name: string }
    role?: string
    cart?: string
    /** Application data written by a slow request. */
    note?: string
    loggedOut?: boolean
    x?: number
    /** @fastify/passport's own key. */
    passport?: unknown
  }
}

export {}
