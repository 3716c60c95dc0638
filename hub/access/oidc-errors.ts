// The coded errors of single sign-on: the provider cannot be discovered, or one sign-in is refused (and why).
import { PhoenixError, type PhoenixErrorOptions } from '../../common/errors.js';

/**
 * Why a sign-in was refused. `expired`: the callback came after the sign-in's time ran out; `provider_error`: the
 * provider answered with an error (the person cancelled, or the provider refused them); `state_mismatch`: the callback
 * belongs to another sign-in (a forged or stale link); `exchange_failed`: the code could not be exchanged or the ID
 * token failed a check (issuer, audience, nonce, expiry, signature), e.g. a code used twice; `no_role`: the person's
 * claim values match no mapping in `oidc.roles`.
 */
export type SignInRefusal = 'expired' | 'provider_error' | 'state_mismatch' | 'exchange_failed' | 'no_role';

export class OidcError extends PhoenixError {
  /** Set for PHX_OIDC_SIGN_IN. */
  readonly reason: SignInRefusal | undefined;

  constructor(code: 'PHX_OIDC_DISCOVERY' | 'PHX_OIDC_SIGN_IN', message: string, reason?: SignInRefusal, options: PhoenixErrorOptions = {}) {
    super(code, message, 1, options);
    this.reason = reason;
  }
}
