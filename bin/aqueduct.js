#!/usr/bin/env node
import { main } from '../dist/server/cli.js';

process.exitCode = await main(process.argv);
