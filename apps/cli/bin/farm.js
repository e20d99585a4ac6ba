#!/usr/bin/env node
// `farm`, the farm's command line: runs its TypeScript through swc with the workspace's path
// aliases, whatever the directory it is started from.
const path = require('node:path');

process.env.SWC_NODE_PROJECT = path.join(__dirname, '..', '..', '..', 'tsconfig.json');
require('@swc-node/register');
require('../src/main.ts');
