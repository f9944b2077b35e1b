#!/usr/bin/env node
// Only imports the built CLI and sets the exit code: everything else lives in dist/cli.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
