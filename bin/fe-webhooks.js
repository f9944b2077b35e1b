#!/usr/bin/env node
// Only loads the built CLI and sets the exit code: everything else lives in dist/bin.
// CommonJS (bin/package.json) so that start-up never waits on the ES module loader.
'use strict';

require('../dist/bin/main.cjs')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
