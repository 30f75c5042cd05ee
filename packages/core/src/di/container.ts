/**
 * The DI container: tsyringe behind a small facade, so no tsyringe type leaks into our API and
 * nothing relies on decorator metadata (esbuild-based tools do not emit it).
 */
import 'reflect-metadata'; // tsyringe refuses to load without a Reflect metadata polyfill
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { tokenName, type Token } from './token.ts';

/** Options of {@link Container.register}. */
export interface RegisterOptions {
  /** Called by {@link Container.dispose}, in reverse registration order (e.g. a plugin's `close`). */
  dispose?: () => unknown;
}

/** A dependency container of values registered under typed tokens. */
export interface Container {
  /** Adds `value` under `token`. Registering a token again adds another value (see `resolveAll`). */
  register<T>(token: Token<T>, value: T, options?: RegisterOptions): void;
  /** The value registered last under `token`, here or in a parent; throws when there is none. */
  resolve<T>(token: Token<T>): T;
  /** Every value registered under `token`, in registration order; empty when there is none. */
  resolveAll<T>(token: Token<T>): T[];
  /** Whether `token` has a value here or in a parent. */
  has(token: Token<unknown>): boolean;
  /** A container that sees this one's values and can add its own (per plugin, per request). */
  createChild(): Container;
  /** Runs the `dispose` hooks of this container's registrations, newest first, once. */
  dispose(): Promise<void>;
}

/** Makes an empty root container. */
export function createContainer(): Container {
  // A child of tsyringe's global container: nothing we register touches process-wide state.
  return wrap(rootContainer.createChildContainer());
}

function wrap(inner: DependencyContainer): Container {
  const disposers: Array<() => unknown> = [];
  let disposed = false;
  return {
    register(token, value, options) {
      if (disposed) throw new Error(`cannot register ${tokenName(token)}: the container was disposed`);
      inner.register(token, { useValue: value });
      if (options?.dispose) disposers.push(options.dispose);
    },
    resolve(token) {
      if (!inner.isRegistered(token, true)) {
        throw new Error(`nothing is registered for ${tokenName(token)}: register it before resolving it`);
      }
      return inner.resolve(token);
    },
    resolveAll(token) {
      // tsyringe throws for unknown tokens; an empty list is what callers of a multi-token want.
      return inner.isRegistered(token, true) ? inner.resolveAll(token) : [];
    },
    has(token) {
      return inner.isRegistered(token, true);
    },
    createChild() {
      return wrap(inner.createChildContainer());
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      const errors: unknown[] = [];
      for (const dispose of disposers.reverse()) {
        try {
          await dispose();
        } catch (err) {
          errors.push(err);
        }
      }
      inner.clearInstances();
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, `${errors.length} disposers failed`);
    },
  };
}
