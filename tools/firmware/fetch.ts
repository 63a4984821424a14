/**
 * Fetches the Debian trixie arm64 packages the project runs (OP-TEE, xtest, the guest kernel, busybox,
 * the library closure) and TF-A's source package into cache/, through a private apt configuration.
 *
 * Nothing is installed on the host: the arm64 .debs are only unpacked with `dpkg-deb -x`, and dpkg never
 * learns about arm64. Re-running downloads nothing; `--refresh` re-reads the archive's package lists.
 * Usage: npx tsx tools/firmware/fetch.ts [--refresh]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as P from "./paths.ts";

const SUITE = "trixie";
const KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";
const FALLBACK_MIRROR = "http://deb.debian.org/debian";
const TFA_SOURCE = "arm-trusted-firmware";
/** xtest's library closure (checked with `readelf -d`), the TEE userland, OP-TEE itself, busybox. */
const PACKAGES = ["optee-os", "optee-test-qemu", "libteec2", "libckteec0t64", "tee-supplicant", "libc6",
  "libssl3t64", "zlib1g", "libzstd1", "busybox-static"];
/**
 * What the guests' TEEC benchmark (guest/teebench/) is compiled against, beside the runtime above: libteec's
 * headers (optee-client-dev), glibc's headers and start files (libc6-dev), the kernel's UAPI headers they include
 * (linux-libc-dev). Kept in a tree of their own (P.DEV_ROOT): nothing of them goes into a guest.
 */
const DEV_PACKAGES = ["optee-client-dev", "libc6-dev", "linux-libc-dev"];
/**
 * The Raspberry Pi 4's firmware (configs/boards/rpi4.ts), in a tree of its own (P.RPI4_ROOT) so that adding it
 * never re-extracts the runtime tree: TF-A's prebuilt `rpi4/bl31.bin` (arm-trusted-firmware), and the VideoCore
 * firmware for the SD card, start4.elf and fixup4.dat (raspi-firmware, in non-free-firmware).
 */
const RPI4_PACKAGES = ["arm-trusted-firmware", "raspi-firmware"];
/** Components of the private sources: raspi-firmware is in non-free-firmware. */
const COMPONENTS = "main non-free-firmware";

/** linux-image-6.12.N+debNN-arm64-unsigned: the generic 4k-page flavour (not 16k, cloud or rt). */
const KERNEL_PATTERN = /^linux-image-6\.12\.(\d+)[^-]*-arm64-unsigned$/;

const APT_CONF = join(P.APT_DIR, "apt.conf");
const SRC_DL = join(P.CACHE, "tfa/dl");

class StepError extends Error {}

const log = (msg: string): void => console.log(`[firmware] ${msg}`);
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** Runs a command, returning stdout + stderr; throws one line saying what failed (apt's E: lines if any). */
function run(what: string, cmd: string, args: string[], cwd = P.PROJECT_ROOT): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) throw new StepError(`${what}: ${r.error.message}`);
  if (r.status !== 0) {
    const lines = `${r.stderr}\n${r.stdout}`.split("\n").map((l) => l.trim()).filter(Boolean);
    const errors = lines.filter((l) => l.startsWith("E:"));
    const more = errors.length > 1 ? ` (+${errors.length - 1} more errors)` : "";
    const detail = errors.length ? errors[0] + more : lines.slice(-2).join(" | ");
    throw new StepError(`${what} (exit ${r.status}): ${detail}`);
  }
  return `${r.stdout}\n${r.stderr}`;
}

const apt = (what: string, tool: string, args: string[], cwd?: string): string =>
  run(what, tool, ["-c", APT_CONF, ...args], cwd);

/** The Debian mirror the host already uses (deb822 debian.sources), so no new host is contacted. */
function hostMirror(): string {
  const file = "/etc/apt/sources.list.d/debian.sources";
  if (!existsSync(file)) return FALLBACK_MIRROR;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^URIs:\s*(.*)$/.exec(line);
    const uri = m?.[1].split(/\s+/).find((u) => !u.includes("security"));
    if (uri) return uri.replace(/\/$/, "");
  }
  return FALLBACK_MIRROR;
}

/** Writes the private apt configuration. `-c` is read after the host's apt.conf.d, so it overrides it. */
function writeAptConfig(): void {
  const mirror = hostMirror();
  const dir = P.APT_DIR;
  for (const d of ["lists/partial", "cache/archives/partial", "empty.d"]) mkdirSync(join(dir, d), { recursive: true });
  if (!existsSync(join(dir, "status"))) writeFileSync(join(dir, "status"), "");
  writeFileSync(join(dir, "sources.list"),
    `deb [arch=arm64 signed-by=${KEYRING}] ${mirror} ${SUITE} ${COMPONENTS}\n` +
    `deb-src [signed-by=${KEYRING}] ${mirror} ${SUITE} main\n`);
  writeFileSync(APT_CONF, [
    `Dir::Etc::sourcelist "${dir}/sources.list";`,
    `Dir::Etc::sourceparts "${dir}/empty.d";`, // ignore the host's sources
    `Dir::Etc::preferences "${dir}/empty.d/none";`, // and its pinning
    `Dir::Etc::preferencesparts "${dir}/empty.d";`,
    `Dir::State::Lists "${dir}/lists";`,
    `Dir::State::status "${dir}/status";`, // empty: the host's installed amd64 packages are irrelevant
    `Dir::Cache "${dir}/cache";`,
    `Dir::Cache::pkgcache "pkgcache.bin";`, // some hosts disable the binary caches (docker-clean)
    `Dir::Cache::srcpkgcache "srcpkgcache.bin";`,
    `APT::Architecture "arm64";`, // resolve arm64 candidates without `dpkg --add-architecture`
    `APT::Architectures { "arm64"; };`,
    `APT::Sandbox::User "root";`, // the _apt user may not be able to write into cache/
    `Acquire::Languages "none";`,
    `Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";`,
    `Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled "false";`,
    `Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";`,
    `#clear APT::Update::Post-Invoke-Success;`, // the host's hooks (packagekit, appstream) are not ours to run
    `#clear APT::Update::Post-Invoke;`,
    "",
  ].join("\n"));
}

function updateLists(refresh: boolean): void {
  const done = P.stamp("apt-update");
  // Lists fetched before non-free-firmware was a component lack it: read the archive again once.
  const haveAll = existsSync(join(P.APT_DIR, "lists")) &&
    readdirSync(join(P.APT_DIR, "lists")).some((f) => f.includes(`_dists_${SUITE}_non-free-firmware_binary-arm64_Packages`));
  if (existsSync(done) && !refresh && haveAll) {
    log(`package lists: cached (${SUITE}, from ${readFileSync(done, "utf8").trim()}; --refresh to re-read)`);
    return;
  }
  const mirror = hostMirror();
  log(`package lists: apt-get update (${mirror} ${SUITE} ${COMPONENTS}, arm64 + sources)`);
  rmSync(done, { force: true });
  const out = apt("apt-get update of the private trixie lists", "apt-get", ["-q", "update"]);
  // apt-get update exits 0 even when an index could not be fetched: check both arrived.
  const lists = readdirSync(join(P.APT_DIR, "lists"));
  for (const index of [`_dists_${SUITE}_main_binary-arm64_Packages`, `_dists_${SUITE}_main_source_Sources`,
    `_dists_${SUITE}_non-free-firmware_binary-arm64_Packages`]) {
    if (!lists.some((f) => f.includes(index))) {
      const why = out.split("\n").filter((l) => /^(Err|W:|E:)/.test(l)).slice(0, 2).join(" | ");
      throw new StepError(`apt-get update did not fetch ${SUITE} ${index.replace(/.*dists_/, "")} from ${mirror}: ${why}`);
    }
  }
  writeFileSync(done, `${mirror}\n`);
}

function newestKernel(): string {
  const names = apt("apt-cache pkgnames", "apt-cache", ["pkgnames", "linux-image-6.12"]).split("\n");
  const kernels = names.filter((n) => KERNEL_PATTERN.test(n))
    .sort((a, b) => Number(KERNEL_PATTERN.exec(b)![1]) - Number(KERNEL_PATTERN.exec(a)![1]));
  if (!kernels.length) throw new StepError(`no linux-image-6.12.*-arm64-unsigned in ${SUITE}`);
  return kernels[0];
}

interface Uri { url: string; file: string; size: number }

/** Parses `--print-uris` lines: 'URL' file size hash. */
function parseUris(out: string): Uri[] {
  return [...out.matchAll(/^'([^']+)' (\S+) (\d+) /gm)].map((m) => ({ url: m[1], file: m[2], size: Number(m[3]) }));
}

const have = (dir: string, u: Uri): boolean =>
  existsSync(join(dir, u.file)) && statSync(join(dir, u.file)).size === u.size;

function downloadDebs(packages: string[], dir: string): Uri[] {
  mkdirSync(dir, { recursive: true });
  const debs = parseUris(apt("apt-get download --print-uris", "apt-get", ["download", "--print-uris", ...packages]));
  if (debs.length !== packages.length) throw new StepError(`apt resolved ${debs.length} of ${packages.length} packages`);
  const total = debs.reduce((s, u) => s + u.size, 0);
  const missing = debs.filter((u) => !have(dir, u));
  // Older versions left behind by a --refresh would end up merged into the extracted tree: drop them.
  const wanted = new Set(debs.map((u) => u.file));
  for (const f of readdirSync(dir)) if (f.endsWith(".deb") && !wanted.has(f)) rmSync(join(dir, f));
  if (!missing.length) {
    log(`${debs.length} packages: already downloaded (${mb(total)}), nothing to fetch`);
    return debs;
  }
  const names = missing.map((u) => u.file.replace(/_.*/, ""));
  log(`downloading ${missing.length} packages (${mb(missing.reduce((s, u) => s + u.size, 0))})…`);
  const t0 = Date.now();
  apt(`apt-get download of ${names.length} packages`, "apt-get", ["-q", "download", ...names], dir);
  const bad = missing.filter((u) => !have(dir, u));
  if (bad.length) throw new StepError(`download incomplete: ${bad.map((u) => u.file).join(", ")}`);
  log(`downloaded ${missing.length} packages in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return debs;
}

/** Extracts every .deb of `dir` into one tree, `root`; redone from scratch whenever the set of .debs changes. */
function extractDebs(debs: Uri[], dir: string, root: string, stampName: string): void {
  const done = P.stamp(stampName);
  const list = debs.map((u) => u.file).sort().join("\n") + "\n";
  if (existsSync(done) && readFileSync(done, "utf8") === list && existsSync(root)) {
    log(`extracted tree: up to date (${P.shown(root)})`);
    return;
  }
  log(`extracting ${debs.length} packages into ${P.shown(root)}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  for (const u of debs) run(`dpkg-deb -x ${u.file}`, "dpkg-deb", ["-x", join(dir, u.file), root]);
  writeFileSync(done, list);
}

/** Downloads TF-A's source package and unpacks it into cache/tfa/src (Debian's patches are not needed to build). */
function fetchTfaSource(): void {
  mkdirSync(SRC_DL, { recursive: true });
  const files = parseUris(apt("apt-get source --print-uris", "apt-get", ["source", "--print-uris", TFA_SOURCE]));
  const dsc = files.find((u) => u.file.endsWith(".dsc"));
  const orig = files.find((u) => /\.orig\.tar\.\w+$/.test(u.file));
  const debian = files.find((u) => /\.debian\.tar\.\w+$/.test(u.file));
  if (!orig) throw new StepError(`no orig tarball for source package ${TFA_SOURCE}`);
  const version = orig.file.replace(/\.orig\.tar\.\w+$/, "");
  const missing = files.filter((u) => !have(SRC_DL, u));
  if (missing.length) {
    log(`downloading source ${TFA_SOURCE} (${mb(missing.reduce((s, u) => s + u.size, 0))})…`);
    apt(`apt-get source --download-only ${TFA_SOURCE}`, "apt-get", ["-q", "source", "--download-only", TFA_SOURCE], SRC_DL);
  } else {
    log(`source ${version}: already downloaded`);
  }

  const done = P.stamp("tfa-src");
  if (existsSync(done) && readFileSync(done, "utf8").trim() === version && existsSync(P.TFA_SRC)) {
    log(`source ${version}: already unpacked (${P.shown(P.TFA_SRC)})`);
    return;
  }
  log(`unpacking ${version} into ${P.shown(P.TFA_SRC)}`);
  const tmp = `${P.TFA_SRC}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  rmSync(P.TFA_SRC, { recursive: true, force: true });
  const viaDsc = dsc && have(SRC_DL, dsc) &&
    spawnSync("dpkg-source", ["--no-check", "--skip-patches", "-x", dsc.file, tmp], { cwd: SRC_DL }).status === 0;
  if (!viaDsc) {
    // No usable .dsc: the orig tarball plus the debian/ tarball on top is the same tree, unpatched.
    log("dpkg-source could not unpack; extracting the tarballs directly");
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    run("tar (orig)", "tar", ["-xf", join(SRC_DL, orig.file), "-C", tmp, "--strip-components=1"]);
    if (debian && have(SRC_DL, debian)) run("tar (debian)", "tar", ["-xf", join(SRC_DL, debian.file), "-C", tmp]);
  }
  renameSync(tmp, P.TFA_SRC);
  writeFileSync(done, `${version}\n`);
}

/** Fails early if an artifact the other tools need is not where paths.ts says. */
function checkArtifacts(): void {
  const want = [P.opteeHeader("virt"), P.opteePager("virt"), P.opteeHeader("native"), P.opteePager("native"),
    P.kernelImage(), P.teeModule(), P.opteeModule(), P.XTEST, P.TEE_SUPPLICANT, P.BUSYBOX, P.TA_DIR,
    P.RPI4_BL31, P.RPI4_START4, P.RPI4_FIXUP4, P.rpi4BoardDtb(),
    join(P.TFA_SRC, "Makefile")];
  const absent = want.filter((f) => !existsSync(f));
  if (absent.length) throw new StepError(`expected files missing: ${absent.map(P.shown).join(", ")}`);
  log(`ready: kernel ${P.kernelRelease()}, OP-TEE in ${P.shown(P.opteeDir("virt"))}, TF-A source in ${P.shown(P.TFA_SRC)}`);
}

function main(): void {
  const refresh = process.argv.includes("--refresh");
  mkdirSync(dirname(P.stamp("x")), { recursive: true });
  writeAptConfig();
  updateLists(refresh);
  const kernel = newestKernel();
  log(`kernel package: ${kernel}`);
  extractDebs(downloadDebs([...PACKAGES, kernel], P.DEBS_DIR), P.DEBS_DIR, P.ROOT, "extract");
  extractDebs(downloadDebs(DEV_PACKAGES, P.DEV_DEBS_DIR), P.DEV_DEBS_DIR, P.DEV_ROOT, "extract-dev");
  extractDebs(downloadDebs(RPI4_PACKAGES, P.RPI4_DEBS_DIR), P.RPI4_DEBS_DIR, P.RPI4_ROOT, "extract-rpi4");
  fetchTfaSource();
  checkArtifacts();
}

try {
  main();
} catch (e) {
  const msg = e instanceof Error ? e.message : String(e);
  console.error(`[firmware] FAILED: ${msg}`);
  console.error("[firmware] retry with: make deps");
  process.exit(1);
}
