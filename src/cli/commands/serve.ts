/**
 * `mirrorauth serve`: the loopback credential-injecting registry proxy, and
 * the rendered certs.d tree containerd's config_path points at.
 */
import { EXIT, MirrorauthError } from '../../errors.js';
import { DEFAULT_LISTEN, parseListen, startServe } from '../../serve/server.js';
import type { ServeTreePlan } from '../../serve/render-tree.js';
import type { System } from '../../system/system.js';
import { hostsSettings, type HostsOptionValues } from '../options.js';
import { styleFor } from '../style.js';

export interface ServeCliOptions extends HostsOptionValues {
  listen?: string;
  render?: string;
  renderOnly?: boolean;
  config?: string;
  redirects?: string;
  reload?: string;
  json?: boolean;
  quiet?: boolean;
}

/** summaryJson is the documented `serve --render-only --json` contract (docs/serve.md). */
export function summaryJson(plan: ServeTreePlan, renderDir: string | null): unknown {
  return {
    proxyUrl: plan.manifest.proxyUrl,
    renderDir,
    containerd: plan.manifest.containerd,
    sourceRoots: plan.manifest.sourceRoots,
    directories: [...plan.dirs].map(([name, d]) => ({ name, kind: d.kind === 'toml' ? 'rendered' : 'link', source: d.kind === 'toml' ? d.source : d.target })),
    routes: plan.manifest.routes.map((r) => ({
      id: r.id,
      registryDir: r.registryDir,
      namespace: r.namespace,
      endpoint: `${r.endpoint.scheme}://${r.endpoint.host}${r.endpoint.apiPath}`,
      file: r.file,
      line: r.line,
      capabilities: r.capabilities,
    })),
  };
}

export async function serveCommand(sys: System, o: ServeCliOptions): Promise<number> {
  const err = styleFor(sys, sys.stderr);
  const settings = await hostsSettings(sys, o);
  const listen = parseListen(o.listen ?? (o.renderOnly ? DEFAULT_LISTEN : DEFAULT_LISTEN));
  const redirects = o.redirects ?? 'pass';
  if (redirects !== 'pass' && redirects !== 'follow')
    throw new MirrorauthError('USAGE', `--redirects ${JSON.stringify(redirects)}`, { hint: 'use --redirects pass (default) or follow' });
  const reloadS = o.reload === undefined ? 2 : Number(o.reload);
  if (!Number.isFinite(reloadS) || reloadS < 0)
    throw new MirrorauthError('USAGE', `--reload ${JSON.stringify(o.reload)} is not a number of seconds`, { hint: 'write --reload 2 (0 = never re-read)' });
  if (settings.roots.length === 0)
    throw new MirrorauthError('USAGE', 'no hosts roots to serve', { hint: 'give --hosts-dir /etc/containerd/certs.d (your real tree) or --containerd-config' });
  if (o.renderOnly && o.render === undefined)
    throw new MirrorauthError('USAGE', '--render-only needs --render DIR', {
      hint: 'write mirrorauth serve --render /etc/containerd/certs.d.mirrorauth --render-only',
    });
  const event = (text: string) => {
    if (!o.quiet) sys.stderr.write(`${err.c.dim(`mirrorauth serve: ${text}`)}\n`);
  };
  const running = await startServe(sys, {
    roots: settings.roots,
    version: settings.version,
    listen,
    renderDir: o.render ?? null,
    ...(o.config !== undefined ? { configFlag: o.config } : {}),
    redirects,
    reloadMs: o.renderOnly ? 0 : reloadS * 1000,
    log: (rec) => {
      if (!o.quiet) sys.stderr.write(`${JSON.stringify(rec)}\n`);
    },
    event,
  });
  const plan = running.plan();
  if (o.renderOnly) {
    await running.close();
    if (o.json) sys.stdout.write(`${JSON.stringify(summaryJson(plan, o.render ?? null), null, 2)}\n`);
    else printSummary(sys, plan, o.render ?? null);
    return EXIT.OK;
  }
  event(`listening on ${running.url} with ${plan.manifest.routes.length} route(s)${o.render ? `; containerd config_path = ${o.render}` : ''}`);
  if (o.json) sys.stdout.write(`${JSON.stringify({ listening: running.url, ...(summaryJson(plan, o.render ?? null) as object) })}\n`);
  await new Promise<void>((resolve) => {
    const off = sys.onSignals((signal) => {
      off();
      event(`${signal}: shutting down`);
      void running.close().then(resolve);
    });
  });
  return EXIT.OK;
}

function printSummary(sys: System, plan: ServeTreePlan, renderDir: string | null): void {
  const out = styleFor(sys, sys.stdout);
  const routes = plan.manifest.routes;
  sys.stdout.write(`${out.c.bold(`rendered ${renderDir}`)} for ${plan.manifest.proxyUrl} (containerd ${plan.manifest.containerd})\n`);
  if (routes.length === 0) sys.stdout.write('no mirror entry has mirrorauth credentials: every directory is a link to the original\n');
  for (const r of routes) {
    sys.stdout.write(
      `  ${r.registryDir}: ${r.endpoint.scheme}://${r.endpoint.host}${r.endpoint.apiPath} (${r.namespace === null ? 'ns from the request' : `ns=${r.namespace}`}) -> route ${r.id}\n`,
    );
  }
  const links = [...plan.dirs.values()].filter((d) => d.kind === 'link').length;
  sys.stdout.write(`${links} director${links === 1 ? 'y' : 'ies'} unchanged (links to the originals)\n`);
  sys.stdout.write(`point containerd's config_path at ${renderDir} and run \`mirrorauth serve\` with the same options\n`);
}
