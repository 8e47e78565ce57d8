/**
 * Per-file shared fixtures for integration tests: a resource set (gateway processes, HAProxy, topics)
 * started lazily by the first test of a file that asks for it, shared by the file's later tests and
 * stopped after the file's last test (`Deno.test.afterAll`, which runs even when tests fail or are
 * filtered out). The start function registers each resource on a stack as it acquires it, so a start
 * that fails halfway, a failing test and the normal end all tear down in one order.
 *
 * ```ts
 * const nodes = fileFixture(async (stack) => {
 *   const gw = await GatewayProcess.start({ host, kafka });
 *   stack.defer(() => gw.stop());
 *   return { gw };
 * });
 * sharedTest("kcat -L through the node", async () => {
 *   const { gw } = await nodes.get();
 * });
 * ```
 */

/** A lazily started resource set shared by the tests of one file. */
export interface FileFixture<T> {
  /** Starts the fixture on first use (later calls share it; a failed start fails every caller). */
  get(): Promise<T>;
  /** Stops the fixture now (a later `get` starts a new one); errors of the teardown are thrown. */
  reset(): Promise<void>;
}

/**
 * A fixture of this test file: `start` runs on the first `get()`; everything it put on `stack` is
 * disposed (last in, first out) by `reset()` or after the file's last test.
 *
 * @example
 * ```ts
 * const topic = fileFixture(async (stack) => {
 *   const name = uniqueTopic("x");
 *   await createTopic(name);
 *   stack.defer(() => deleteTopic(name));
 *   return name;
 * });
 * ```
 */
export function fileFixture<T>(start: (stack: AsyncDisposableStack) => Promise<T>): FileFixture<T> {
  let stack: AsyncDisposableStack | undefined;
  let value: Promise<T> | undefined;
  const reset = async () => {
    const current = stack;
    stack = undefined;
    value = undefined;
    if (current) await current.disposeAsync();
  };
  Deno.test.afterAll(reset);
  return {
    get() {
      if (!value) {
        const own = new AsyncDisposableStack();
        stack = own;
        value = start(own);
        // The caller sees the rejection; the half-started resources stay on the stack for reset().
        value.catch(() => {});
      }
      return value;
    },
    reset,
  };
}

/**
 * `Deno.test` for a test that uses a file fixture: resources and ops it starts on behalf of the file's
 * later tests (child processes, kafkajs timers) outlive it, so the sanitizers are off.
 *
 * @example
 * ```ts
 * sharedTest("the node serves", async () => { await nodes.get(); });
 * ```
 */
export function sharedTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  Deno.test({ name, sanitizeOps: false, sanitizeResources: false, fn });
}
