// libp2p 3 calls Promise.withResolvers (ES2024), which Node 20's V8 lacks. This
// module is imported first by helia-network.ts, so it runs before libp2p loads,
// and only when the embedded store goes online. It follows the spec exactly and
// leaves a native implementation alone.
type WithResolvers = <T>() => { promise: Promise<T>; resolve: (value: T | PromiseLike<T>) => void; reject: (reason?: unknown) => void };

const PromiseWithMaybeResolvers = Promise as unknown as { withResolvers?: WithResolvers };

if (typeof PromiseWithMaybeResolvers.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function withResolvers<T>(this: PromiseConstructor) {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export {};
