// A tiny schema builder for the webview messages: each declaration is a type guard, and its TS type is
// read back from it with `Infer`, so a payload's shape is written once and checked at runtime from the
// same text (postMessage carries untyped structured clones, both ways).
//   const isPoint = obj({ x: num, y: nullable(num) });  type Point = Infer<typeof isPoint>;

/** A runtime check that narrows to T. */
export type Guard<T> = (v: unknown) => v is T;

/** The type a guard checks for. */
export type Infer<G> = G extends Guard<infer T> ? T : never;

type Shape = Record<string, Guard<unknown>>;
type Fields<S extends Shape> = { -readonly [K in keyof S]: Infer<S[K]> };

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const str: Guard<string> = (v): v is string => typeof v === 'string';
export const bool: Guard<boolean> = (v): v is boolean => typeof v === 'boolean';
export const num: Guard<number> = (v): v is number => typeof v === 'number';
/** A safe integer (request ids and counts). */
export const int: Guard<number> = (v): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** A string of at most `max` characters: form fields are typed by a person, not pasted megabytes. */
export const text =
  (max: number): Guard<string> =>
  (v): v is string =>
    typeof v === 'string' && v.length <= max;

/** One of the listed strings. */
export const oneOf =
  <T extends string>(values: readonly T[]): Guard<T> =>
  (v): v is T =>
    typeof v === 'string' && (values as readonly string[]).includes(v);

export const nullable =
  <T>(g: Guard<T>): Guard<T | null> =>
  (v): v is T | null =>
    v === null || g(v);

/** A list of items, at most `max` long when given. */
export const array =
  <T>(item: Guard<T>, max = Infinity): Guard<T[]> =>
  (v): v is T[] =>
    Array.isArray(v) && v.length <= max && v.every(item);

/** An object with these fields (others are let through, as a structured clone may carry them). */
export const obj =
  <S extends Shape>(shape: S): Guard<Fields<S>> =>
  (v): v is Fields<S> =>
    isObject(v) && Object.keys(shape).every((k) => shape[k](v[k]));

/** An object with exactly these fields: the params of page requests that must carry nothing else. */
export const exact =
  <S extends Shape>(shape: S): Guard<Fields<S>> =>
  (v): v is Fields<S> =>
    obj(shape)(v) && Object.keys(v).every((k) => Object.prototype.hasOwnProperty.call(shape, k));

/** An object with a value under every one of `keys`. */
export const keyed =
  <K extends string, T>(keys: readonly K[], value: Guard<T>): Guard<Record<K, T>> =>
  (v): v is Record<K, T> =>
    isObject(v) && keys.every((k) => value(v[k]));

/** An object whose own keys are among `keys` (any may be missing), each with a value. */
export const someKeyed =
  <K extends string, T>(keys: readonly K[], value: Guard<T>): Guard<Partial<Record<K, T>>> =>
  (v): v is Partial<Record<K, T>> =>
    isObject(v) && Object.keys(v).every((k) => (keys as readonly string[]).includes(k) && value(v[k]));

/** An object used as a map from any string to a value. */
export const recordOf =
  <T>(value: Guard<T>): Guard<Record<string, T>> =>
  (v): v is Record<string, T> =>
    isObject(v) && Object.values(v).every(value);

/** Any one of the guards' types: for unions tagged by a `kind` literal. */
export const union =
  <G extends Guard<unknown>[]>(...guards: G): Guard<Infer<G[number]>> =>
  (v): v is Infer<G[number]> =>
    guards.some((g) => g(v));

export const literal =
  <T extends string | number | boolean>(value: T): Guard<T> =>
  (v): v is T =>
    v === value;

/** A guard with an extra condition on values that already have its type. */
export const refine =
  <T>(g: Guard<T>, ok: (v: T) => boolean): Guard<T> =>
  (v): v is T =>
    g(v) && ok(v);
