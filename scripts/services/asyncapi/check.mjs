// Parse an AsyncAPI document with the AsyncAPI Initiative's parser and print every finding.
// Exit status: 0 when the document is valid and has no finding of any severity, 1 otherwise.
import fs from 'node:fs';
import { Parser } from '@asyncapi/parser';

const { document, diagnostics } = await new Parser().parse(fs.readFileSync(process.argv[2], 'utf8'));
for (const d of diagnostics) {
  console.log(`${d.severity}\t${d.code}\t${d.message}\t${JSON.stringify(d.path)}`);
}
console.log(document ? 'valid' : 'invalid');
process.exit(document && diagnostics.length === 0 ? 0 : 1);
