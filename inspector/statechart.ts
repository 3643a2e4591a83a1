// statechart: a machine's definition read from XState's own state nodes, laid out with ELK for the page.

import elkModule from 'elkjs/lib/elk.bundled.js';
import type { AnyStateMachine, AnyStateNode } from 'xstate';

/** One state box, positioned (absolute coordinates, px). */
export interface ChartNode {
  /** The state node's id: `rproc.recovering.stopping`. */
  id: string;
  /** Its key: `stopping`. */
  key: string;
  /** The path from the root as a dotted string without the machine id: `recovering.stopping` ('' for the root). */
  path: string;
  type: string;
  /** The initial child's id, for a compound state. */
  initial: string | null;
  /** Events handled here without a target (`rproc.call`, `rproc.set` …). */
  internal: string[];
  depth: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One transition arrow (parallel transitions between the same states share one arrow). */
export interface ChartEdge {
  source: string;
  target: string;
  /** `rproc.coredump.free`, `after stop`, `[hasWaiter]` … joined with ` | `. */
  label: string;
  points: Array<[number, number]>;
  labelX: number;
  labelY: number;
}

/** A laid-out statechart: what the page draws. */
export interface Statechart {
  machine: string;
  width: number;
  height: number;
  nodes: ChartNode[];
  edges: ChartEdge[];
}

interface RawEdge {
  source: string;
  target: string;
  labels: string[];
}

/** A guard's name: XState keeps `'name'` or `{ type: 'name', params }`. */
const guardName = (guard: unknown): string =>
  typeof guard === 'string'
    ? guard
    : guard && typeof guard === 'object' && 'type' in guard
      ? String(guard.type)
      : guard
        ? 'guard'
        : '';

const transitionLabel = (eventType: string, guard: unknown): string => {
  const g = guardName(guard);
  const after = /^xstate\.after\.([^.]+)\./.exec(eventType);
  const base = after ? `after ${after[1]}` : eventType;
  return g ? `${base} [${g}]` : base;
};

/** The states and transitions of `machine`, read from its state nodes (not a hand-drawn copy). */
export function readStatechart(machine: AnyStateMachine): {
  nodes: Array<Omit<ChartNode, 'x' | 'y' | 'width' | 'height'> & { parent: string | null }>;
  edges: RawEdge[];
} {
  const nodes: Array<Omit<ChartNode, 'x' | 'y' | 'width' | 'height'> & { parent: string | null }> = [];
  const edges = new Map<string, RawEdge>();
  const add = (source: string, target: string, label: string) => {
    const key = `${source}->${target}`;
    const e = edges.get(key) ?? { source, target, labels: [] };
    if (!e.labels.includes(label)) e.labels.push(label);
    edges.set(key, e);
  };
  const walk = (n: AnyStateNode, parent: string | null, depth: number) => {
    const internal: string[] = [];
    for (const [eventType, list] of n.transitions) {
      for (const t of list) {
        const targets = t.target ?? [];
        if (!targets.length) {
          if (!internal.includes(eventType)) internal.push(eventType);
          continue;
        }
        for (const target of targets) add(n.id, target.id, transitionLabel(eventType, t.guard));
      }
    }
    for (const t of n.always ?? []) {
      const g = guardName(t.guard);
      for (const target of t.target ?? []) add(n.id, target.id, g ? `[${g}]` : 'always');
    }
    nodes.push({
      id: n.id,
      key: n.key,
      path: n.path.join('.'),
      type: n.type,
      initial: n.initial?.target?.[0]?.id ?? null,
      internal,
      depth,
      parent,
    });
    for (const child of Object.values(n.states) as AnyStateNode[]) walk(child, n.id, depth + 1);
  };
  walk(machine.root, null, 0);
  return { nodes, edges: [...edges.values()] };
}

interface ElkNode {
  id: string;
  width?: number;
  height?: number;
  x?: number;
  y?: number;
  children?: ElkNode[];
  edges?: ElkEdge[];
  layoutOptions?: Record<string, string>;
}
interface ElkEdge {
  id: string;
  sources: string[];
  targets: string[];
  sections?: Array<{
    startPoint: { x: number; y: number };
    endPoint: { x: number; y: number };
    bendPoints?: Array<{ x: number; y: number }>;
  }>;
}

// elkjs is CommonJS: under Node ESM the default import is `module.exports`, the ELK class itself.
const ELK = elkModule as unknown as new () => { layout(graph: unknown): Promise<unknown> };

const CHAR_W = 6.1;
const textWidth = (s: string) => Math.ceil(s.length * CHAR_W) + 8;

/**
 * Lays out `machine`'s statechart with ELK (layered, left to right, nested states inside their
 * parents). Transition labels are left out of the layout (the page shows them on hover), so a compact
 * chart stays legible; an edge's label position is its first point. Deterministic; takes about 100 ms
 * for the rproc machine, so callers cache it.
 */
export async function layoutStatechart(machine: AnyStateMachine): Promise<Statechart> {
  const { nodes, edges } = readStatechart(machine);
  const elkNodes = new Map<string, ElkNode>();
  for (const n of nodes) {
    const compound = n.type === 'compound' || n.type === 'parallel';
    const el: ElkNode = compound
      ? {
          id: n.id,
          children: [],
          layoutOptions: {
            'elk.padding': `[top=${n.internal.length ? 40 : 26},left=12,bottom=12,right=12]`,
            'elk.nodeSize.minimum': `(${textWidth(n.key) + 20}, 40)`,
          },
        }
      : { id: n.id, width: Math.max(84, textWidth(n.key) + 20), height: 34 };
    elkNodes.set(n.id, el);
    if (n.parent) elkNodes.get(n.parent)?.children?.push(el);
  }
  const root = elkNodes.get(nodes[0]?.id ?? '') as ElkNode;
  const graph: ElkNode = {
    id: '__root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '36',
      'elk.spacing.nodeNode': '18',
      'elk.spacing.edgeLabel': '2',
      'elk.edgeLabels.inline': 'false',
      'org.eclipse.elk.json.edgeCoords': 'ROOT',
      'org.eclipse.elk.json.shapeCoords': 'ROOT',
    },
    children: [root],
    edges: edges.map((e, i) => ({ id: `e${i}`, sources: [e.source], targets: [e.target] })),
  };
  const laid = (await new ELK().layout(graph)) as unknown as ElkNode;
  const placed = new Map<string, ElkNode>();
  const collect = (n: ElkNode) => {
    placed.set(n.id, n);
    for (const c of n.children ?? []) collect(c);
  };
  collect(laid);
  const outNodes: ChartNode[] = nodes.map(({ parent: _parent, ...n }) => {
    const p = placed.get(n.id);
    return { ...n, x: p?.x ?? 0, y: p?.y ?? 0, width: p?.width ?? 0, height: p?.height ?? 0 };
  });
  const outEdges: ChartEdge[] = (laid.edges ?? []).map((e, i) => {
    const s = e.sections?.[0];
    const points: Array<[number, number]> = s
      ? [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map((p) => [p.x, p.y])
      : [];
    const raw = edges[i] as RawEdge;
    return {
      source: raw.source,
      target: raw.target,
      label: raw.labels.join(' | '),
      points,
      labelX: points[0]?.[0] ?? 0,
      labelY: points[0]?.[1] ?? 0,
    };
  });
  return {
    machine: machine.id,
    width: Math.ceil(laid.width ?? 0),
    height: Math.ceil(laid.height ?? 0),
    nodes: outNodes,
    edges: outEdges,
  };
}
