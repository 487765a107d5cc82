// Validates an AsyncAPI document with the official parser (@asyncapi/parser,
// installed by scripts/asyncapi-tools.sh). Prints each diagnostic; exits 1
// when the parser reports an error (severity 0) or cannot read the document.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(new URL("../var/tools/asyncapi/", import.meta.url));
const { Parser } = require("@asyncapi/parser");

const path = process.argv[2];
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(path, "utf8"));
const errors = diagnostics.filter((d) => d.severity === 0);
for (const d of diagnostics) {
  console.log(`${d.severity === 0 ? "error" : "warning"} ${d.code} ${d.path.join("/")}: ${d.message}`);
}
if (!document || errors.length > 0) {
  process.exit(1);
}
console.log(`valid: AsyncAPI ${document.version()}, ${document.allMessages().length} messages`);
