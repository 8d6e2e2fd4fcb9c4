#!/usr/bin/env node
// The operator CLI. Built code lives in dist/ (`npm run build`).
require('../dist/src/cli/main.js')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
