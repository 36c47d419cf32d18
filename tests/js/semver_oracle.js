// The expected (package, version, advisory) pairs of a lockfile, worked out with npm's own
// `semver` package (the one npm itself ships), independently of secscan's Python code:
//  - packages: package-lock.json is read here in JavaScript (v1 tree / v2-v3 `packages`); for
//    other lockfiles the caller passes the (name, version) list;
//  - matching: each OSV range becomes an npm range string (">=introduced <fixed",
//    "<=last_affected") tested with semver.satisfies(..., {includePrerelease: true}), i.e.
//    range satisfaction instead of secscan's event walk.
// Usage: node semver_oracle.js SEMVER_DIR < {"advisories": [...], "lockfile": {...}} | {"packages": [[n, v]...]}
"use strict";
const fs = require("fs");
const semver = require(process.argv[2]);

function lockPackages(lock) {
  const out = [];
  if (lock.packages && lock.lockfileVersion >= 2) {
    for (const [key, e] of Object.entries(lock.packages)) {
      if (!key.includes("node_modules/") || e.link) continue;
      out.push([e.name || key.slice(key.lastIndexOf("node_modules/") + 13), e.version]);
    }
    return out;
  }
  const walk = (deps) => {
    for (const [name, e] of Object.entries(deps || {})) {
      const m = /^npm:(@?[^@]+)@(.+)$/.exec(e.version);
      out.push(m ? [m[1], m[2]] : [name, e.version]);
      walk(e.dependencies);
    }
  };
  walk(lock.dependencies);
  return out;
}

function bound(v) {
  // "1.0" (GHSA-r683-j2x4-v87g) is not full SemVer: read it the way semver.coerce does.
  return semver.valid(v) || semver.coerce(v).version;
}

function rangeStrings(rng) {
  const out = [];
  let low = null;
  for (const ev of rng.events) {
    const [kind, value] = Object.entries(ev)[0];
    if (kind === "introduced") low = value === "0" ? ">=0.0.0-0" : `>=${bound(value)}`;
    else if (kind === "fixed") { out.push(`${low} <${bound(value)}`); low = null; }
    else if (kind === "last_affected") { out.push(`${low} <=${bound(value)}`); low = null; }
  }
  if (low !== null) out.push(low);
  return out;
}

function affected(rec, name, version) {
  for (const aff of rec.affected || []) {
    if (aff.package.ecosystem !== "npm" || aff.package.name.toLowerCase() !== name.toLowerCase()) continue;
    if ((aff.versions || []).includes(version)) return true;
    for (const rng of aff.ranges || []) {
      if (rng.type !== "SEMVER" && rng.type !== "ECOSYSTEM") continue;
      if (rangeStrings(rng).some((r) => semver.satisfies(version, r, { includePrerelease: true }))) return true;
    }
  }
  return false;
}

const input = JSON.parse(fs.readFileSync(0, "utf8"));
const packages = input.lockfile ? lockPackages(input.lockfile) : input.packages;
const pairs = new Set();
for (const [name, version] of packages) {
  for (const rec of input.advisories) {
    if (affected(rec, name, version)) pairs.add(JSON.stringify([name, version, rec.id]));
  }
}
const unique = [...new Set(packages.map((p) => JSON.stringify(p)))].sort().map((p) => JSON.parse(p));
process.stdout.write(JSON.stringify({ packages: unique, pairs: [...pairs].sort().map((p) => JSON.parse(p)) }));
