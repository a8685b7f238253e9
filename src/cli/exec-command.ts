import { hostname } from 'node:os';
import { loadConfig } from '../config/load-config';
import { detectCgroup2Mount } from '../enrich/cgroup/cgroup-mount';
import { findContainerCommand, findHostCommand } from '../exec/command-lookup';
import { containerProcess } from '../exec/container-process';
import { ExecError, checkNamespaceAccess, namespaceId } from '../exec/namespace-access';
import { nsenterArgs, runNsenter } from '../exec/nsenter-runner';
import { locatePod } from '../target/pod-locator';
import { TargetError, pickContainer, requireRunning } from '../target/pod-target';
import { resolveConfigPath } from './config-command';
import type { ExecArgs } from './pod-args';

function note(line: string): void {
  process.stderr.write(`podtrace: ${line}\n`);
}

/**
 * `podtrace exec -n NS POD [-c C] [--ns net,uts,ipc,pid,mnt,cgroup] -- CMD [ARGS…]`: finds the
 * container's process (CRI verbose status, else its cgroup), enters the chosen namespaces of that
 * process with util-linux nsenter and runs CMD there with stdio passed through; podtrace exits with
 * CMD's exit code and forwards signals to it. Without `mnt` the command comes from this host (or
 * podtrace's image): the host's tcpdump or ip against the pod's network.
 */
export async function execCommand(args: ExecArgs): Promise<number> {
  const config = loadConfig(resolveConfigPath(args.config), process.env);
  const nodeName = config.nodeName ?? hostname();
  const procBase = config.enrich.procBase;
  const who = `pod ${args.namespace}/${args.pod}`;
  const { target, cri } = await locatePod(
    { namespace: args.namespace, name: args.pod },
    {
      nodeName,
      kubernetes: config.enrich.kubernetes,
      cri: config.enrich.cri,
      commandLine: `exec -n ${args.namespace} ${args.pod}${args.container === undefined ? '' : ` -c ${args.container}`} -- ${args.command}`,
      warn: note,
    },
  );
  let pid: number;
  let container: string;
  try {
    const c = pickContainer(target, args.container);
    requireRunning(target, c);
    container = c.name;
    if (c.id === null) throw new TargetError(`container "${c.name}" of ${who} has no container id yet`);
    const mount = detectCgroup2Mount(config.enrich.cgroupBase, procBase);
    const proc = await containerProcess(cri, c.id, { cgroupBase: mount?.base ?? null, procBase });
    if (proc === null)
      throw new TargetError(
        `no process found for container "${c.name}" of ${who} (the runtime gave no pid and its cgroup has no processes)`,
      );
    pid = proc.pid;
  } finally {
    cri?.close();
  }
  checkNamespaceAccess(procBase, pid, args.namespaces);
  if (args.namespaces.includes('net')) {
    const hostNet =
      target.hostNetwork ??
      (namespaceId(procBase, pid, 'net') !== null &&
        namespaceId(procBase, pid, 'net') === namespaceId(procBase, 1, 'net'));
    if (hostNet) note(`${who} uses the host network: net is the node's own network namespace`);
  }
  let command = args.command;
  if (args.namespaces.includes('mnt')) {
    const found = findContainerCommand(procBase, pid, command);
    if (found === null)
      throw new ExecError(
        `command "${command}" not found in the filesystem of container "${container}" (with --ns mnt the command must exist in the container's image)`,
      );
    command = found;
  } else if (findHostCommand(command) === null) {
    throw new ExecError(
      `command "${command}" not found on this host's PATH (without --ns mnt the command comes from where podtrace runs, not from the container)`,
    );
  }
  return runNsenter(
    nsenterArgs(procBase, pid, args.namespaces, command, args.args),
    args.namespaces.includes('pid'),
  );
}
