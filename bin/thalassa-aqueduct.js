#!/usr/bin/env node
// The original's command: `thalassa-aqueduct [original flags]` runs the loop.
import { main } from '../dist/server/cli.js';

process.exitCode = await main(process.argv, undefined, 'run');
