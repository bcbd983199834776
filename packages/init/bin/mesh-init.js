#!/usr/bin/env node
// mesh-init: a thin entry over the library's main (compiled to dist/ by `pnpm build`).
import '../dist/main.js'
