// Preloaded into the test runner and every test file's process (scripts/run-tests.mjs). A test
// file's process sends its results to the runner over its stdout, a pipe, which is
// non-blocking on Linux: the process.exit() of --test-force-exit then drops the results still
// buffered, and the runner reports fewer tests than ran, still with exit code 0
// (nodejs/node#64833). A blocking stdout writes every result before the process exits.
const handle = process.stdout._handle;
if (handle !== undefined && typeof handle.setBlocking === 'function') handle.setBlocking(true);
