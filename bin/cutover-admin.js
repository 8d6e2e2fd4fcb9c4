#!/usr/bin/env node
// Machine-side operations (database access, no API): see `cutover-admin --help`.
require('../dist/src/cli/admin.js')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
