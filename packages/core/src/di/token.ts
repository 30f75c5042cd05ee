/** Typed DI tokens: a registered symbol that also carries (at the type level) what it resolves to. */

declare const tokenType: unique symbol;

/**
 * A key of the container. It is a `Symbol.for` symbol, so two copies of `@opendepot/core` in one
 * process agree on it; the type parameter says what `resolve` returns.
 */
export type Token<T> = symbol & { readonly [tokenType]?: T };

/** The type a token resolves to. */
export type TokenType<K> = K extends Token<infer T> ? T : never;

/**
 * Makes the token `opendepot.<name>`.
 *
 * @example
 * const CLOCK = createToken<Clock>('clock');
 */
export function createToken<T>(name: string): Token<T> {
  return Symbol.for(`opendepot.${name}`) as Token<T>;
}

/** Readable name of a token, for error messages. */
export function tokenName(token: Token<unknown>): string {
  return token.description ?? token.toString();
}
