/**
 * Reads each guest's state back from the console: the hypervisor prefixes a
 * guest's own lines with "[<name>] ", and the guest's /init prints marker
 * lines (tools/images/initramfs.ts). Feeds build/results/guests.json.
 */

export interface GuestReport {
  name: string;
  booted: boolean;
  kernel: string | null;
  nproc: number | null;
  mem: number | null; // kB, MemTotal as the guest sees it
  secondsToInit: number | null;
  isolation: string | null; // "bus-error", "read", "exit-N"; null when not probed
  done: boolean;
  poweredOff: boolean;
  lines: number;
}

export function parseGuests(names: string[], lines: string[]): GuestReport[] {
  return names.map((name) => {
    const r: GuestReport = {
      name, booted: false, kernel: null, nproc: null, mem: null, secondsToInit: null, isolation: null,
      done: false, poweredOff: false, lines: 0,
    };
    const prefix = `[${name}] `;
    for (const line of lines) {
      if (line.startsWith(`[hyp] guest ${name}: powered off`)) r.poweredOff = true;
      if (!line.startsWith(prefix)) continue;
      r.lines++;
      const text = line.slice(prefix.length);
      let m: RegExpExecArray | null;
      if ((m = /^GUEST-READY name=(\S+) kernel=(\S+) nproc=(\d+) mem_kb=(\d+) seconds_to_init=([\d.]+)/.exec(text))) {
        r.booted = m[1] === name;
        r.kernel = m[2];
        r.nproc = Number(m[3]);
        r.mem = Number(m[4]);
        r.secondsToInit = Number(m[5]);
      } else if ((m = /^ISOLATION-PROBE result=(\S+)/.exec(text))) {
        r.isolation = m[1];
      } else if (text.startsWith(`GUEST-DONE name=${name}`)) {
        r.done = true;
      }
    }
    return r;
  });
}
