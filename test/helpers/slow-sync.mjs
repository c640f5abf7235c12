// Preload for test/interrupt.test.ts (`node --import ./test/helpers/slow-sync.mjs …`): every file
// handle's sync() — the step between writing writeFileAtomic's temporary file and renaming it —
// announces "@@in-write FILE" on stderr and then waits 2 s, so a test can kill the process while
// a result file is being written.
import { promises as fs } from 'node:fs';

const open = fs.open.bind(fs);
fs.open = async (file, ...rest) => {
  const handle = await open(file, ...rest);
  const sync = handle.sync.bind(handle);
  handle.sync = async () => {
    process.stderr.write(`@@in-write ${file}\n`);
    await new Promise((r) => setTimeout(r, 2000));
    return sync();
  };
  return handle;
};
