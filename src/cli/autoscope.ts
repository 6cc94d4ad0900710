#!/usr/bin/env node
// `autoscope`: the slimtrace program installed under the Autoscope seed's name (`autoscope analyze ...`).
import { runCli } from './main.js';

await runCli('autoscope');
