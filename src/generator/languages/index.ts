// The printers of the languages other than TypeScript, behind one call: a service's files and its
// operations' code model, by the service's language.
import type { CodeModelOperation } from '../code-model.js';
import type { SourceFile } from '../printing.js';
import { languageOf, type ServiceDef, type Topology } from '../topology.js';
import { renderCsharpService } from './csharp.js';
import { renderGoService } from './go.js';
import { renderJavaService } from './java.js';
import { renderPythonService } from './python.js';

export { renderProtos } from './project.js';

export function renderLanguageService(topology: Topology, svc: ServiceDef): { files: SourceFile[]; ops: CodeModelOperation[] } {
  const language = languageOf(svc);
  switch (language) {
    case 'go':
      return renderGoService(topology, svc);
    case 'python':
      return renderPythonService(topology, svc);
    case 'java':
      return renderJavaService(topology, svc);
    case 'csharp':
      return renderCsharpService(topology, svc);
    case 'typescript':
      throw new Error('unreachable: TypeScript services are printed by emit.ts');
  }
}
