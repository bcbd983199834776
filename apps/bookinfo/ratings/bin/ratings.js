#!/usr/bin/env node
// The published entry: the compiled main (run `pnpm build` first).
import '../dist/main.js'
