#!/usr/bin/env node
// Installs what the chart checks need (helm, the Kubernetes API schemas) before the tests: once, then cached.
import { helmBinary, kubernetesSpecDir } from './tools.js';

process.stderr.write('chart tools: helm and the Kubernetes API schemas (built/downloaded once, then cached)\n');
process.stdout.write(`${helmBinary()}\n${kubernetesSpecDir()}\n`);
