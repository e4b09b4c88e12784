import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConflictError, NotFoundError, UnavailableError } from '../../lib/errors.ts';
import { runtimeError, StartError } from './runtime-error.ts';

const cases = [
  {
    doing: 'creating container a',
    out: '{"msg":"executable file `foo` not found in $PATH: No such file or directory","level":"error","time":"x"}',
    cls: StartError,
    exit: 127,
    msg: 'creating container a: executable file `foo` not found in $PATH: No such file or directory',
  },
  {
    doing: 'creating container a',
    out: '{"level":"error","msg":"runc create failed: unable to start container process: exec: \\"foo\\": executable file not found in $PATH"}',
    cls: StartError,
    exit: 127,
    msg: 'creating container a: exec: "foo": executable file not found in $PATH',
  },
  {
    doing: 'creating container a',
    out: 'open executable: Permission denied',
    cls: StartError,
    exit: 126,
  },
  {
    doing: 'reading state of container a',
    out: 'error opening file `/run/x/a/status`: No such file or directory',
    cls: NotFoundError,
  },
  { doing: 'killing container a', out: 'container `a` does not exist', cls: NotFoundError },
  { doing: 'pausing container a', out: 'container not running', cls: ConflictError },
  { doing: 'starting container a', out: 'something odd', cls: UnavailableError },
];

for (const tc of cases) {
  test(`runtimeError: ${tc.doing} / ${tc.out.slice(0, 40)}`, () => {
    const err = runtimeError(tc.doing, tc.out);
    assert.ok(err instanceof tc.cls, `${err.name}: ${err.message}`);
    if (tc.exit) assert.equal((err as StartError).exitCode, tc.exit);
    if (tc.msg) assert.equal(err.message, tc.msg);
  });
}
