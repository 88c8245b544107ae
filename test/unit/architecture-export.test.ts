// `nas-studio export --format svg`'s file: well-formed XML, every node of the trial view's drawing labelled, labels escaped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { standaloneArchitectureSvg } from '../../src/engine/export/trial.ts';
import { compileSpace, decodeArchitecture, type ArchitectureGraph, type CellGraph } from '../../src/space/graph.ts';
import { loadSearchFile } from '../../src/space/parse.ts';

interface XmlElement {
  tag: string;
  attributes: Map<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescape = (text: string) =>
  text.replace(/&([a-z]+);/g, (entity, name: string) => {
    assert.ok(name in ENTITIES, `unknown entity ${entity}`);
    return ENTITIES[name];
  });

/**
 * Parses the XML this export writes (a declaration, elements, attributes in double quotes, text), failing on
 * anything not well-formed: an unclosed or mismatched tag, a bare `<` or `&`, text or a second element outside the root.
 */
function parseXml(xml: string): XmlElement {
  const token = /<\?xml[^?]*\?>|<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  const document: XmlElement = { tag: '#document', attributes: new Map(), children: [], text: '' };
  const open = [document];
  while (token.lastIndex < xml.length) {
    const at = token.lastIndex;
    const match = token.exec(xml);
    assert.ok(match, `not well-formed at ${at}: ${xml.slice(at, at + 40)}`);
    const [, closing, tag, attributeText, selfClosing, text] = match;
    const parent = open[open.length - 1];
    if (text !== undefined) {
      assert.doesNotMatch(text, /&(?![a-z]+;)/, 'a bare & in text');
      if (parent === document) assert.match(text, /^\s*$/, 'text outside the root');
      parent.text += unescape(text);
    } else if (closing) {
      assert.equal(tag, parent.tag, `</${tag}> closes <${parent.tag}>`);
      open.pop();
    } else if (tag !== undefined) {
      if (parent === document) assert.equal(document.children.length, 0, 'a second root element');
      const attributes = new Map<string, string>();
      for (const [, name, value] of (attributeText ?? '').matchAll(/([\w:-]+)="([^"]*)"/g)) {
        assert.ok(!attributes.has(name), `attribute ${name} twice`);
        assert.doesNotMatch(value, /&(?![a-z]+;)/, 'a bare & in an attribute');
        attributes.set(name, unescape(value));
      }
      const element: XmlElement = { tag, attributes, children: [], text: '' };
      parent.children.push(element);
      if (!selfClosing) open.push(element);
    }
  }
  assert.equal(open.length, 1, `<${open[open.length - 1].tag}> is never closed`);
  assert.equal(document.children.length, 1);
  return document.children[0];
}

const descendants = (element: XmlElement): XmlElement[] => element.children.flatMap((child) => [child, ...descendants(child)]);
const withClass = (element: XmlElement, name: string) =>
  descendants(element).filter((e) => e.attributes.get('class')?.split(' ').includes(name));
/** The labels of the drawing's nodes (their text) and of its edges (the operations). */
const labels = (root: XmlElement, kind: 'arch-node' | 'arch-edge') =>
  withClass(root, kind).flatMap((g) => g.children.filter((child) => child.tag === 'text').map((text) => text.text));

function exampleGraph(file: string, choice: (options: number, i: number) => number): ArchitectureGraph {
  const { config } = loadSearchFile(join(__dirname, '..', '..', 'examples', file));
  assert.ok(config);
  return decodeArchitecture(
    config.space,
    compileSpace(config.space).map((decision, i) => choice(decision.options.length, i)),
  );
}

test('a macro graph: one svg document on white, its style, every layer labelled', () => {
  const graph = exampleGraph('digits-macro.nas.yaml', (options, i) => (i * 3) % options);
  assert.equal(graph.kind, 'macro');
  const root = parseXml(standaloneArchitectureSvg(graph));
  assert.equal(root.tag, 'svg');
  assert.equal(root.attributes.get('xmlns'), 'http://www.w3.org/2000/svg');
  assert.match(root.children.find((child) => child.tag === 'style')?.text ?? '', /\.arch-svg \.arch-node rect \{ fill: #ffffff/);
  assert.deepEqual(labels(root, 'arch-node'), [
    'image',
    ...graph.layers.map((l) => `conv ${l.filterHeight}x${l.filterWidth}, ${l.filters} filters (stride ${l.stride})`),
    'classifier',
  ]);
  // Every edge points at the figure's own arrowhead.
  const markers = new Set(
    descendants(root)
      .filter((e) => e.tag === 'marker')
      .map((e) => `url(#${e.attributes.get('id')})`),
  );
  for (const path of withClass(root, 'arch-edge').map((g) => g.children[0])) assert.ok(markers.has(path.attributes.get('marker-end')!));
});

test('a cell graph: the normal and the reduction cell under their headings, nodes and operations labelled', () => {
  const graph = exampleGraph('digits-cell.nas.yaml', (options, i) => (i * 5 + 1) % options) as CellGraph;
  assert.equal(graph.kind, 'cell');
  const root = parseXml(standaloneArchitectureSvg(graph));
  assert.deepEqual(
    withClass(root, 'cell-title').map((title) => title.text),
    ['Normal cell', 'Reduction cell'],
  );
  const cellLabels = (nodes: CellGraph['normal']) => ['input0', 'input1', ...nodes.map((_, j) => `node${j}`), 'output'];
  assert.deepEqual(labels(root, 'arch-node'), [...cellLabels(graph.normal), ...cellLabels(graph.reduction)]);
  assert.deepEqual(
    labels(root, 'arch-edge'),
    [...graph.normal, ...graph.reduction].flatMap((n) => n.operations),
  );
  // Two figures, two arrowheads: their ids differ.
  const ids = descendants(root)
    .filter((e) => e.tag === 'marker')
    .map((e) => e.attributes.get('id'));
  assert.equal(new Set(ids).size, 2);
});

test('a nasbench201 graph: its four nodes, and an operation on every edge but none', () => {
  const graph = exampleGraph('nasbench201.nas.yaml', (options, i) => i % options);
  assert.equal(graph.kind, 'nasbench201');
  const root = parseXml(standaloneArchitectureSvg(graph));
  assert.deepEqual(labels(root, 'arch-node'), ['node0 (input)', 'node1', 'node2', 'node3 (output)']);
  const operations = graph.edges.map((e) => e.operation).filter((operation) => operation !== 'none');
  assert.ok(operations.length > 0);
  assert.deepEqual(labels(root, 'arch-edge'), operations);
});

test('labels are escaped: < & " in an operation come back as written', () => {
  const graph = exampleGraph('digits-cell.nas.yaml', () => 0) as CellGraph;
  const odd = 'sep<3x3> & "wide"' as CellGraph['normal'][number]['operations'][number];
  graph.normal[0].operations[0] = odd;
  const xml = standaloneArchitectureSvg(graph);
  assert.ok(xml.includes('sep&lt;3x3&gt; &amp; &quot;wide&quot;'));
  assert.ok(!xml.includes(odd));
  assert.ok(labels(parseXml(xml), 'arch-edge').includes(odd));
});
