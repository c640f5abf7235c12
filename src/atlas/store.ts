import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ActmaxError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { encodePng, isImageShape, toRgba } from '../io/png.js';
import type { ActmaxModel } from '../model/types.js';
import type { ExampleSet, TopExamples } from './examples.js';
import { ATLAS_CSS } from './site/html.js';
import { indexPage, layerPage, layerPath, unitDir, unitPage, type ExampleRef, type SiteContext, type UnitRecord } from './site/pages.js';
import type { AtlasPlan, ManifestUnit, PlannedLayer, PlannedUnit, UnitPicture, UnitResult } from './types.js';

/** The manifest's format tag; a folder with another tag is not read as an atlas. */
export const MANIFEST_FORMAT = 'actmax-atlas/1';

/** manifest.json. */
export interface Manifest {
  format: string;
  atlasId: string;
  model: { source: string; format: string; digest: string };
  settings: AtlasPlan['settings'];
  layers: Array<{ name: string; className: string; kind: string; units: number; page: string }>;
  total: number;
  done: number;
  units: ManifestUnit[];
}

/** Persisted dataset-example scores (examples/top.json), reused by a rerun without --examples. */
interface StoredExamples {
  source: string;
  labels: string[];
  files: Array<string | undefined>;
  top: Record<string, Array<{ example: number; value: number }>>;
}

async function readJson<T>(file: string): Promise<T | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ActmaxError('bad-input', `${file} is not valid JSON (damaged?); delete it to start that part again`);
  }
}

/** Why two plans differ, in words, for the "folder holds another atlas" error. */
function differences(m: Manifest, plan: AtlasPlan): string {
  const out: string[] = [];
  if (m.model?.digest !== plan.modelDigest) out.push('another model');
  for (const k of Object.keys(plan.settings) as Array<keyof AtlasPlan['settings']>) {
    if (m.settings?.[k] !== plan.settings[k]) out.push(`${k} ${String(m.settings?.[k])} (now ${String(plan.settings[k])})`);
  }
  const layers = m.layers?.map((l) => l.name).join(',');
  if (layers !== plan.layers.map((l) => l.name).join(',')) out.push(`layers ${layers}`);
  return out.join(', ') || 'other settings';
}

/**
 * An atlas folder: manifest.json, the static site and every unit's files. Units are recorded once
 * (a second result for a unit is ignored); each unit's pictures, page and unit.json are written
 * atomically, unit.json last, so a unit counts as done exactly when its unit.json exists — a
 * rerun finds finished units from those even if the manifest was not rewritten before a crash.
 */
export class AtlasStore {
  private readonly lines = new Map<string, ManifestUnit>();
  private readonly dirty = new Set<string>();
  private readonly unitsById: Map<string, PlannedUnit>;
  private readonly layersByName: Map<string, PlannedLayer>;
  private examples: StoredExamples | null = null;
  private flushing: Promise<void> = Promise.resolve();

  private constructor(readonly dir: string, readonly plan: AtlasPlan, private readonly ctx: SiteContext, private readonly model: ActmaxModel) {
    this.unitsById = new Map(plan.units.map((u) => [u.id, u]));
    this.layersByName = new Map(plan.layers.map((l) => [l.name, l]));
  }

  /**
   * Open (or start) an atlas folder for a plan. Refuses a folder holding another atlas or other
   * files; picks up every unit already finished there.
   *
   * @example
   * const store = await AtlasStore.open('atlas-out', plan, model);
   * store.done // units finished by earlier runs
   */
  static async open(dir: string, plan: AtlasPlan, model: ActmaxModel, opts: { examples?: { set: ExampleSet; top: TopExamples } } = {}): Promise<AtlasStore> {
    const manifestFile = path.join(dir, 'manifest.json');
    const manifest = await readJson<Manifest>(manifestFile);
    if (manifest && (manifest.format !== MANIFEST_FORMAT || manifest.atlasId !== plan.atlasId)) {
      throw new ActmaxError('bad-option', `${dir} holds an atlas made with ${differences(manifest, plan)}; use another --out or the same model and settings`);
    }
    if (!manifest) {
      const entries = await fs.readdir(dir).catch(() => [] as string[]);
      if (entries.some((e) => !e.startsWith('.'))) throw new ActmaxError('bad-option', `${dir} is not empty and holds no atlas (no manifest.json); give a new or empty folder`);
    }
    const ctx: SiteContext = {
      title: `Atlas of ${path.basename(model.source)}`,
      model: { source: model.source, format: model.format },
      atlasId: plan.atlasId,
      settings: plan.settings,
      layers: plan.layers,
      outputs: model.outputs.map((o) => ({ name: o.name, classNames: o.classNames, finalActivation: o.finalActivation })),
    };
    const store = new AtlasStore(dir, plan, ctx, model);
    await writeFileAtomic(path.join(dir, 'atlas.css'), ATLAS_CSS);
    await store.recoverUnits(manifest?.units ?? []);
    const examplesChanged = await store.useExamples(opts.examples);
    if (examplesChanged) await store.rewriteUnitPages();
    for (const l of plan.layers) store.dirty.add(l.name);
    await store.flush();
    return store;
  }

  /**
   * Units finished in earlier runs: a manifest line counts when its unit.json still exists; a
   * unit.json without a line (a crash before the manifest was rewritten) is read back.
   */
  private async recoverUnits(listed: ManifestUnit[]): Promise<void> {
    const byId = new Map(listed.map((l) => [l.id, l]));
    for (const u of this.plan.units) {
      const file = path.join(this.dir, unitDir(this.layer(u), u.index), 'unit.json');
      const line = byId.get(u.id);
      if (line) {
        if (await fs.stat(file).then((st) => st.isFile(), () => false)) this.lines.set(u.id, line);
        continue;
      }
      const rec = await readJson<UnitRecord>(file).catch(() => null);
      if (rec && rec.atlasId === this.plan.atlasId && rec.id === u.id) this.lines.set(u.id, manifestLine(rec));
    }
  }

  private layer(u: PlannedUnit): PlannedLayer {
    return this.layersByName.get(u.layer)!;
  }

  /** Store new dataset examples (pictures + scores), or load the previous run's; true when they changed. */
  private async useExamples(given: { set: ExampleSet; top: TopExamples } | undefined): Promise<boolean> {
    const file = path.join(this.dir, 'examples', 'top.json');
    if (!given) {
      this.examples = await readJson<StoredExamples>(file).catch(() => null);
    } else {
      const used = new Set<number>();
      for (const list of given.top.values()) for (const e of list) used.add(e.example);
      const info = this.model.inputs[0];
      const files: Array<string | undefined> = given.set.labels.map(() => undefined);
      if (isImageShape(info.shape)) {
        for (const k of [...used].sort((a, b) => a - b)) {
          files[k] = `examples/${k}.png`;
          await writeFileAtomic(path.join(this.dir, files[k]!), encodePng(toRgba(given.set.inputs[k][info.name], info.shape, info.range)));
        }
      }
      this.examples = { source: given.set.source, labels: given.set.labels, files, top: Object.fromEntries(given.top) };
      await writeFileAtomic(file, JSON.stringify(this.examples));
    }
    if (this.examples) this.ctx.examples = { count: this.examples.labels.length, source: this.examples.source };
    return !!given;
  }

  private examplesFor(id: string): ExampleRef[] | undefined {
    const ex = this.examples;
    return ex?.top[id]?.map((e) => ({ label: ex.labels[e.example], file: ex.files[e.example], value: e.value }));
  }

  private async rewriteUnitPages(): Promise<void> {
    for (const line of this.lines.values()) {
      const u = this.unitsById.get(line.id)!;
      const rec = await readJson<UnitRecord>(path.join(this.dir, line.files.json));
      if (rec) await writeFileAtomic(path.join(this.dir, line.files.page), unitPage(this.ctx, this.layer(u), rec, this.examplesFor(u.id)));
    }
  }

  /** Units finished (in this folder, by any run). @example store.done // 120 */
  get done(): number {
    return this.lines.size;
  }

  /** Whether a unit is finished. @example store.has('conv2d/3') */
  has(id: string): boolean {
    return this.lines.has(id);
  }

  /**
   * Record one unit's result: its pictures, page and unit.json (atomically, unit.json last). Returns
   * false — and writes nothing — when the unit is already recorded or not in the plan.
   *
   * @example
   * for (const u of batchResult.units) await store.record(u);
   */
  async record(result: UnitResult): Promise<boolean> {
    const u = this.unitsById.get(result.id);
    if (!u || this.lines.has(u.id)) return false;
    const layer = this.layer(u);
    const dir = unitDir(layer, u.index);
    const files: ManifestUnit['files'] = { page: `${dir}index.html`, json: `${dir}unit.json`, restarts: [] };
    // Claimed before the first await: a second result for this unit arriving meanwhile is ignored.
    const placeholder = { id: u.id } as ManifestUnit;
    this.lines.set(u.id, placeholder);
    try {
      // The pictures and the page are written side by side (their flushes overlap), unit.json last:
      // it is what marks the unit done. A restart whose picture is the best picture (the winner's
      // always is) points to best.png instead of a second copy.
      const bestName = result.best.png ? 'best.png' : undefined;
      const names = result.restarts.map((pic, j) => (!pic.png ? undefined : pic.png === result.best.png ? bestName : `restart-${j}.png`));
      if (bestName) files.best = `${dir}${bestName}`;
      const restarts: UnitRecord['restarts'] = result.restarts.map((pic, j) => {
        const file = names[j] && `${dir}${names[j]}`;
        if (file) files.restarts.push(file);
        return { value: pic.value, ...(file ? { file } : { input: pic.input }) };
      });
      const rec: UnitRecord = {
        id: u.id, layer: u.layer, unit: u.index, objective: u.objective, value: result.value, steps: result.steps, seconds: result.seconds,
        seed: result.seed, engine: result.engine, batch: result.batch, files,
        atlasId: this.plan.atlasId, kind: u.kind, winner: result.winner, backend: result.backend, piece: result.piece,
        history: result.history, outputs: result.outputs, restarts, ...(result.best.input ? { input: result.best.input } : {}),
      };
      const png = (name: string, pic: UnitPicture) => writeFileAtomic(path.join(this.dir, dir, name), Buffer.from(pic.png!, 'base64'));
      await Promise.all([
        ...(bestName ? [png(bestName, result.best)] : []),
        ...result.restarts.flatMap((pic, j) => (names[j] && names[j] !== bestName ? [png(names[j]!, pic)] : [])),
        writeFileAtomic(path.join(this.dir, files.page), unitPage(this.ctx, layer, rec, this.examplesFor(u.id))),
      ]);
      await writeFileAtomic(path.join(this.dir, files.json), JSON.stringify(rec) + '\n');
      this.lines.set(u.id, manifestLine(rec));
      this.dirty.add(u.layer);
      return true;
    } catch (e) {
      this.lines.delete(u.id);
      throw e;
    }
  }

  /**
   * Write manifest.json, index.html and the pages of layers that changed (serialised; safe to call often).
   *
   * @example
   * await store.flush();
   */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeIndex());
    return this.flushing;
  }

  private async writeIndex(): Promise<void> {
    const recorded = (l: PlannedLayer) => Array.from({ length: l.units }, (_, i) => {
      const line = this.lines.get(`${l.name}/${i}`);
      return line?.files ? line : undefined;
    });
    const layers = [...this.dirty];
    this.dirty.clear();
    for (const name of layers) {
      const l = this.layersByName.get(name)!;
      await writeFileAtomic(path.join(this.dir, layerPath(l)), layerPage(this.ctx, l, recorded(l)));
    }
    const byLayer = new Map(this.plan.layers.map((l) => [l.name, recorded(l)]));
    await writeFileAtomic(path.join(this.dir, 'index.html'), indexPage(this.ctx, byLayer));
    const units = this.plan.units.map((u) => this.lines.get(u.id)).filter((l): l is ManifestUnit => !!l?.files);
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      atlasId: this.plan.atlasId,
      model: { source: this.model.source, format: this.model.format, digest: this.plan.modelDigest },
      settings: this.plan.settings,
      layers: this.plan.layers.map((l) => ({ name: l.name, className: l.className, kind: l.kind, units: l.units, page: layerPath(l) })),
      total: this.plan.units.length,
      done: units.length,
      units,
    };
    await writeFileAtomic(path.join(this.dir, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  }
}

function manifestLine(r: UnitRecord): ManifestUnit {
  return { id: r.id, layer: r.layer, unit: r.unit, objective: r.objective, value: r.value, steps: r.steps, seconds: r.seconds, seed: r.seed, engine: r.engine, batch: r.batch, files: r.files };
}
