/**
 * Loaded into every test file's process by `npm test` (node --import). The runner is
 * started with --test-force-exit, so a file whose tests are done exits even if a
 * handle (a worker thread left ref'd, a timer, a socket) would keep it alive; without
 * that the whole run waits for ever. Such a handle is a bug (a CLI command would not
 * exit either), so it is named here, in the test output, instead of being hidden.
 *
 * A process 'exit' listener, not a root after() hook: on Node 20 an after() hook in a
 * file without tests (the helpers) never finishes under --test-force-exit.
 */

import { isMainThread } from 'node:worker_threads';

/**
 * Resources that are the process's own plumbing, not something a test left behind; an
 * Immediate runs on the next turn of the loop and cannot keep a process alive (seen
 * once, queued by onnxruntime at the moment of the forced exit).
 */
const PLUMBING = new Set(['TTYWrap', 'PipeWrap', 'FSReqCallback', 'CloseReq', 'FSReqPromise', 'Immediate']);

// --import loads this into worker threads too; their own message port is not a leak
if (isMainThread) process.on('exit', () => {
  const left = process.getActiveResourcesInfo().filter((r) => !PLUMBING.has(r));
  if (left.length > 0) process.stderr.write(`# handles left open after the tests of ${process.argv[1]}: ${left.join(', ')}\n`);
});
