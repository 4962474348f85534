#!/usr/bin/env sh
# npm run security:audit: a dependency audit of the production dependencies (npm audit
# --omit=dev), then the secret scan (scripts/secret-scan.sh). The audit needs the registry's
# audit service: when it cannot be reached, one line says so and the secret scan still runs.
# Exit status: non-zero when the audit reports vulnerabilities (npm's own exit status, so an
# audit-level in .npmrc is honoured) or the secret scan finds a secret.
set -u
cd "$(dirname "$0")/.."
status=0
report=$(mktemp)
trap 'rm -f "$report"' EXIT
npm audit --omit=dev --json >"$report" 2>/dev/null
audit=$?
# JSON with "metadata.vulnerabilities" is an audit result; anything else (no JSON, or an
# "error" object: offline, DNS, proxy, 4xx/5xx from the endpoint) means the service was not reached.
node -e '
  const fs = require("node:fs");
  let r;
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch { r = undefined; }
  const counts = r?.metadata?.vulnerabilities;
  if (counts === undefined) {
    const why = (r?.message ?? r?.error?.summary ?? "no answer").toString().split("\n")[0].slice(0, 160);
    console.log(`security-audit: the npm audit service could not be reached (${why}); dependency audit skipped`);
    process.exit(3);
  }
  const total = counts.total ?? 0;
  if (total === 0) {
    console.log("security-audit: npm audit found no known vulnerabilities in production dependencies");
    process.exit(0);
  }
  console.log(`security-audit: npm audit found ${total} vulnerable production dependencies: ` +
    Object.entries(counts).filter(([k, v]) => k !== "total" && v > 0).map(([k, v]) => `${v} ${k}`).join(", "));
  for (const [name, v] of Object.entries(r.vulnerabilities ?? {})) {
    const titles = (v.via ?? []).filter((x) => typeof x === "object").map((x) => `${x.title} (${x.url})`);
    console.log(`  ${name} ${v.range ?? ""} [${v.severity}]${titles.length ? ": " + titles.join("; ") : ""}${v.fixAvailable ? " (fix available: npm audit fix)" : ""}`);
  }
  process.exit(1);
' "$report"
parsed=$?
if [ "$parsed" -eq 1 ] && [ "$audit" -ne 0 ]; then status=1; fi
sh scripts/secret-scan.sh || status=1
exit "$status"
