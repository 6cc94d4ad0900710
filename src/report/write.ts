// Writes the report: report.html (self-contained) and results.json beside it, in a directory made
// if missing. Both are written to temporary names and renamed, so a reader never sees half a file.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvaluationReport } from '../eval/results.js';
import { renderReport } from './html.js';

export const REPORT_HTML = 'report.html';
export const REPORT_JSON = 'results.json';

export interface WrittenReport {
  html: string;
  json: string;
  htmlBytes: number;
}

export async function writeReport(dir: string, report: EvaluationReport): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const html = join(dir, REPORT_HTML);
  const json = join(dir, REPORT_JSON);
  const page = renderReport(report, { resultsFile: REPORT_JSON });
  const data = `${JSON.stringify(report, null, 1)}\n`;
  await writeFile(`${json}.tmp`, data);
  await writeFile(`${html}.tmp`, page);
  await rename(`${json}.tmp`, json);
  await rename(`${html}.tmp`, html);
  return { html, json, htmlBytes: Buffer.byteLength(page) };
}
