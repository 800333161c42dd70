// jsdom does no layout: give every element a size so @tanstack/react-virtual sees a viewport
// and rows (it renders nothing otherwise). Call in beforeEach; the returned function undoes it.
export function stubLayout(
  sizes: { clientHeight: number; clientWidth: number; offsetHeight: number; offsetWidth: number } = {
    clientHeight: 400,
    clientWidth: 800,
    offsetHeight: 40,
    offsetWidth: 800,
  },
): () => void {
  const originals = new Map<string, PropertyDescriptor | undefined>();
  for (const [name, value] of Object.entries(sizes)) {
    originals.set(name, Object.getOwnPropertyDescriptor(HTMLElement.prototype, name));
    Object.defineProperty(HTMLElement.prototype, name, { configurable: true, get: () => value });
  }
  return () => {
    for (const [name, descriptor] of originals) {
      if (descriptor) Object.defineProperty(HTMLElement.prototype, name, descriptor);
      else delete (HTMLElement.prototype as unknown as Record<string, unknown>)[name];
    }
  };
}
