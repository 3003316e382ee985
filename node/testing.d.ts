// Types of zkrs/testing (testing.js).
import type { Client, Ensemble, EnsembleOptions, Member, MemberOptions } from './zkrs'

/** Ends the client's session on the server now; resolves once the client saw 'Expired'. */
export declare function expireSession(client: Client, options?: { timeoutMs?: number }): Promise<void>
/** Cuts the client's connection; it reconnects with the same session. */
export declare function dropConnection(client: Client): Promise<void>
/** Runs `fn(member)` against a fresh in-process member, then stops it. */
export declare function withMember<T>(fn: (member: Member) => Promise<T>, options?: MemberOptions): Promise<T>
/** Runs `fn(ensemble)` against a fresh in-process ensemble, then stops it. */
export declare function withEnsemble<T>(fn: (ensemble: Ensemble) => Promise<T>, options?: EnsembleOptions): Promise<T>
