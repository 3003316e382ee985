'use strict'
// npm's install step. In the source tree (Cargo.toml beside this file) it
// builds the addon with napi (needs a Rust toolchain and the dev
// dependencies). From a packed tarball (`npm pack` in node/), which carries
// the prebuilt addon and no Rust sources, there is nothing to build: the
// addon is checked to load on this machine.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

if (fs.existsSync(path.join(__dirname, 'Cargo.toml'))) {
  const napi = path.join(__dirname, 'node_modules', '.bin', 'napi')
  execFileSync(napi, ['build', '--platform', '--release', '--dts', 'index.d.ts'], {
    cwd: __dirname,
    stdio: 'inherit',
  })
} else {
  try {
    require('./index.js')
  } catch (err) {
    console.error(`zkrs: no prebuilt addon for ${process.platform}-${process.arch} in this package;` +
      ' build it from the source tree (npm install ./node, with a Rust toolchain)')
    throw err
  }
}
