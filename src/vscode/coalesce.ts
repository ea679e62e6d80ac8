/**
 * `fn` at most once per `ms`: the first call of a burst schedules it, later ones join. Progress
 * events arrive many times a second; views and panels redraw a few times a second at most.
 */
export function coalesce(fn: () => void, ms: number): { readonly trigger: () => void; dispose(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    trigger: () => {
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        fn();
      }, ms);
    },
    dispose: () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** Listens to `source` through `coalesce`; the returned disposable ends both. */
export function onChangeEvery(
  source: { onChange(listener: () => void): { dispose(): void } },
  ms: number,
  fn: () => void,
): { dispose(): void } {
  const c = coalesce(fn, ms);
  const sub = source.onChange(c.trigger);
  return {
    dispose: () => {
      sub.dispose();
      c.dispose();
    },
  };
}
